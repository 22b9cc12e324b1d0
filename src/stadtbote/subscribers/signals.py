from django.dispatch import Signal

# Sent inside the erasure transaction, before the subscriber row is deleted. Every app that
# keeps personal data about subscribers removes or anonymises its part (kwargs: subscriber).
erasing = Signal()

# Sent to collect a subscriber's data for an Art. 15/20 export. Receivers return a
# (section name, JSON-serialisable data) pair (kwargs: subscriber).
exporting = Signal()
