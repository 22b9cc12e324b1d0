from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    name = "stadtbote.channels"
    label = "channels"
    verbose_name = _("Messenger channels")
