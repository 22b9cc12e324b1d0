from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DialogueConfig(AppConfig):
    name = "stadtbote.dialogue"
    label = "dialogue"
    verbose_name = _("Chat dialogue")

    def ready(self) -> None:
        from stadtbote.channels.signals import webhook_stored
        from stadtbote.dialogue import privacy, tasks
        from stadtbote.subscribers.signals import erasing, exporting

        webhook_stored.connect(tasks.on_webhook_stored, dispatch_uid="dialogue-apply-inbound")
        erasing.connect(privacy.erase_chat, dispatch_uid="dialogue-erase")
        exporting.connect(privacy.export_chat, dispatch_uid="dialogue-export")
