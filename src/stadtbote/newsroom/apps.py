from django.apps import AppConfig


class NewsroomConfig(AppConfig):
    name = "stadtbote.newsroom"
    label = "newsroom"
    verbose_name = "Newsroom"
