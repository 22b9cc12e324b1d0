from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PollsConfig(AppConfig):
    name = "stadtbote.polls"
    label = "polls"
    verbose_name = _("Polls")

    def ready(self) -> None:
        from stadtbote.polls import privacy
        from stadtbote.subscribers.signals import exporting

        # Votes go with the subscriber row (cascade); the export lists them.
        exporting.connect(privacy.export_votes, dispatch_uid="polls-export")
