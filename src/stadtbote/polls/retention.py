"""Votes are personal data only as long as they are needed as such: while a poll is open a
citizen may change their vote, and until the retention period after closing they may ask what
they voted (the data export). After that each vote is cut loose from its subscriber; the
results stay as they were, now truly aggregates."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stadtbote.polls import results
from stadtbote.polls.models import Poll, Vote


def anonymise_closed_polls(after: timedelta) -> int:
    """Anonymises the votes of every poll closed longer than `after`; returns how many polls."""
    cutoff = timezone.now() - after
    due = Poll.objects.filter(anonymised_at=None).filter(
        Q(closed_at__lt=cutoff) | Q(closes_at__lt=cutoff)
    )
    done = 0
    for poll_id in due.values_list("pk", flat=True):
        done += _anonymise(poll_id)
    return done


@transaction.atomic
def _anonymise(poll_id: int) -> int:
    poll = Poll.objects.select_for_update().get(pk=poll_id)
    if poll.anonymised_at is not None:
        return 0  # another worker was first
    frozen: dict[str, int] = {str(k): v for k, v in results.voters_by_district(poll).items()}
    frozen["all"] = results.voters(poll)
    Vote.objects.filter(poll=poll).update(subscriber=None)
    poll.frozen_voters, poll.anonymised_at = frozen, timezone.now()
    poll.save(update_fields=["frozen_voters", "anonymised_at"])
    return 1
