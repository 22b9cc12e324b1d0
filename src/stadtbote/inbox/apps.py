from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "stadtbote.inbox"
    verbose_name = _("inbox")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from stadtbote.inbox import geo, notify, privacy, signals, tasks
        from stadtbote.inbox.models import Message

        # The Open311 forwarder's jobs live below the app, where huey's discovery of
        # `<app>.tasks` does not look: imported here, the worker knows them.
        from stadtbote.inbox.open311 import forwarder
        from stadtbote.inbox.open311 import tasks as open311_tasks  # noqa: F401
        from stadtbote.subscribers.signals import erasing, exporting

        geo.bounds()  # a malformed STADTBOTE_CITY_BOUNDS stops the start, not the first report
        signals.concern_status_changed.connect(
            notify.on_status_changed, dispatch_uid="inbox-notify-citizen"
        )
        signals.concern_created.connect(
            forwarder.on_concern_created, dispatch_uid="open311-forward"
        )
        signals.media_received.connect(tasks.on_media_received, dispatch_uid="inbox-media")
        # Whoever deletes a message (erasure, retention, the admin), its file goes with it.
        post_delete.connect(
            privacy.delete_file_with_message, sender=Message, dispatch_uid="inbox-media-files"
        )
        exporting.connect(privacy.export_inbox, dispatch_uid="inbox-export")
        erasing.connect(privacy.anonymise_concerns, dispatch_uid="inbox-erase")
