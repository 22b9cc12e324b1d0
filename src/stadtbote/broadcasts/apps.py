from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    name = "stadtbote.broadcasts"
    label = "broadcasts"
    verbose_name = "Posts and deliveries"

    def ready(self) -> None:
        from stadtbote.broadcasts import privacy
        from stadtbote.subscribers.signals import erasing, exporting

        erasing.connect(privacy.anonymise_deliveries, dispatch_uid="broadcasts-erase")
        exporting.connect(privacy.export_deliveries, dispatch_uid="broadcasts-export")
