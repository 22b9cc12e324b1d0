from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "stadtbote.dashboards"
    verbose_name = _("Dashboards")

    def ready(self) -> None:
        from stadtbote.dashboards import privacy
        from stadtbote.subscribers.signals import erasing

        erasing.connect(privacy.forget_reactions, dispatch_uid="dashboards-erase")
