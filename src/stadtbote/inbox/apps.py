from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "stadtbote.inbox"
    verbose_name = _("inbox")
    default_auto_field = "django.db.models.BigAutoField"
