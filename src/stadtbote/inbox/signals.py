"""What other parts of the inbox react to, without the actions knowing them.

- `concern_created(concern)`: the forwarder queues it for the city's own system.
- `concern_status_changed(concern, status, note, by)`: the citizen is told (when the concern
  came from the chat). `by` is the staff member, or None for the receiving system.
- `media_received(message)`: a file to fetch from the platform.

All are sent inside the transaction that made the change; receivers write rows (outbox, a
queued job) in it, so nothing is told that was rolled back.
"""

from django.dispatch import Signal

concern_created = Signal()
concern_status_changed = Signal()
media_received = Signal()
