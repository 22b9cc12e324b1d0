from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BroadcastsConfig(AppConfig):
    name = "stadtbote.broadcasts"
    label = "broadcasts"
    verbose_name = _("Posts and deliveries")

    def ready(self) -> None:
        from stadtbote.broadcasts import privacy
        from stadtbote.subscribers.signals import erasing, exporting

        erasing.connect(privacy.anonymise_deliveries, dispatch_uid="broadcasts-erase")
        exporting.connect(privacy.export_deliveries, dispatch_uid="broadcasts-export")
        exporting.connect(privacy.export_reactions, dispatch_uid="broadcasts-export-reactions")
