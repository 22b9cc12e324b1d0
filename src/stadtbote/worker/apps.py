from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "stadtbote.worker"
    label = "worker"
    verbose_name = "Processes: web server and background worker"
