from django.apps import AppConfig


class DialogueConfig(AppConfig):
    name = "stadtbote.dialogue"
    label = "dialogue"
    verbose_name = "Chat dialogue"

    def ready(self) -> None:
        from stadtbote.channels.signals import webhook_stored
        from stadtbote.dialogue import tasks

        webhook_stored.connect(tasks.on_webhook_stored, dispatch_uid="dialogue-apply-inbound")
