from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "stadtbote.inbox"
    verbose_name = _("inbox")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from stadtbote.inbox import geo, notify, signals

        geo.bounds()  # a malformed STADTBOTE_CITY_BOUNDS stops the start, not the first report
        signals.concern_status_changed.connect(
            notify.on_status_changed, dispatch_uid="inbox-notify-citizen"
        )
