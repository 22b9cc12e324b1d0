from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "stadtbote.public"
    label = "public"
    verbose_name = "Public website"
