from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "stadtbote.channels"
    label = "channels"
    verbose_name = "Messenger channels"
