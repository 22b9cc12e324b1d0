from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    name = "stadtbote.worker"
    label = "worker"
    verbose_name = _("Processes: web server and background worker")
