from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "stadtbote.inbox"
    verbose_name = _("inbox")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from stadtbote.inbox import privacy, signals, tasks
        from stadtbote.inbox.models import Message
        from stadtbote.subscribers.signals import erasing, exporting

        signals.media_received.connect(tasks.on_media_received, dispatch_uid="inbox-media")
        # Whoever deletes a message (erasure, retention, the admin), its file goes with it.
        post_delete.connect(
            privacy.delete_file_with_message, sender=Message, dispatch_uid="inbox-media-files"
        )
        exporting.connect(privacy.export_inbox, dispatch_uid="inbox-export")
        erasing.connect(privacy.anonymise_concerns, dispatch_uid="inbox-erase")
