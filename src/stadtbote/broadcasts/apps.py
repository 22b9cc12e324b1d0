from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    name = "stadtbote.broadcasts"
    label = "broadcasts"
    verbose_name = "Posts and deliveries"
