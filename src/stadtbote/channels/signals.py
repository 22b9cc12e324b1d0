from django.dispatch import Signal

# Sent after a webhook body has been committed to storage; the worker side listens and
# schedules the job that applies it. Carries no payload, so no personal data travels with it.
webhook_stored = Signal()
