"""The dashboards' rollup: its counters agree with counts taken directly from the big tables,
it counts nothing twice however often it runs, a late status on an old post reaches that
post's figures, erasure leaves the counts right and no personal data in them, and a second
worker skips while one is running."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from stadtbote.accounts.roles import Role
from stadtbote.broadcasts.models import Delivery, Post, Price
from stadtbote.channels import statuses
from stadtbote.channels.models import SendState
from stadtbote.channels.types import DeliveryStatus, StatusUpdate
from stadtbote.dashboards import rollup
from stadtbote.dashboards.models import AudienceDay, PostFigures, Rollup, SubscriberDay
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import ConsentEvent, District, Subscriber, Topic
from tests.helpers import active_subscriber, staff_with_roles

pytestmark = pytest.mark.django_db

NUMBERS = [f"4917000000{i:02d}" for i in range(6)]


@pytest.fixture
def town(django_user_model):
    """Six subscribers, two of them with topics and districts, one who left again."""
    topic = Topic.objects.create(name="Baustellen", slug="baustellen")
    district = District.objects.create(name="Altstadt", slug="altstadt")
    people = [active_subscriber(n) for n in NUMBERS]
    for s in people[:2]:
        s.topics.add(topic)
        s.districts.add(district)
    subscribers.unsubscribe(people[5], wording="Stop")
    author = staff_with_roles(django_user_model, erika=Role.EDITOR)["erika"]
    return {"people": people, "topic": topic, "district": district, "author": author}


def sent_post(author, people, states, started_ago=timedelta(hours=2)):
    now = timezone.now()
    post = Post.objects.create(
        title="Stadtfest",
        text="x",
        author=author,
        status=Post.Status.SENT,
        send_started_at=now - started_ago,
        sent_at=now - started_ago + timedelta(minutes=5),
    )
    for i, (subscriber, state) in enumerate(zip(people, states, strict=False)):
        Delivery.objects.create(
            post=post,
            subscriber=subscriber,
            state=state,
            message_id=f"wamid.DASH{post.pk}.{i}",
            error_code=131026 if state == SendState.FAILED else None,
            last_error="Message undeliverable" if state == SendState.FAILED else "",
            billed_category="marketing" if state in (SendState.DELIVERED, SendState.READ) else "",
        )
    return post


def ground_truth_funnel(post):
    by_state = dict(
        Delivery.objects.filter(post=post).values_list("state").annotate(n=Count("id")).order_by()
    )
    return {
        "total": sum(by_state.values()),
        "delivered": by_state.get(SendState.DELIVERED, 0) + by_state.get(SendState.READ, 0),
        "read": by_state.get(SendState.READ, 0),
        "failed": by_state.get(SendState.FAILED, 0),
    }


def test_the_counters_agree_with_the_tables_they_come_from(town):
    states = [SendState.READ, SendState.DELIVERED, SendState.FAILED, SendState.SENT]
    post = sent_post(town["author"], town["people"], states)
    result = rollup.refresh(timezone.now())
    assert result.ran
    today = SubscriberDay.objects.get(day=rollup.local_day(timezone.now()))
    assert today.active == Subscriber.objects.filter(status="active").count() == 5
    assert today.confirmed == ConsentEvent.objects.filter(action="confirmed").count() == 6
    assert today.requested == 6
    assert today.withdrawn == 1
    audience = {(a.kind, a.ref): a.active for a in AudienceDay.objects.all()}
    assert audience == {("topic", town["topic"].pk): 2, ("district", town["district"].pk): 2}
    figures = PostFigures.objects.get(post=post)
    truth = ground_truth_funnel(post)
    assert (figures.total, figures.delivered, figures.read, figures.failed) == (
        truth["total"],
        truth["delivered"],
        truth["read"],
        truth["failed"],
    )
    assert figures.sent == 4 - 1  # reached Meta: all but the failed one
    assert figures.failed_by_reason == {"131026 Message undeliverable": 1}
    # The opt-out came after the post started (two hours ago), inside its 24 hours.
    assert figures.opt_outs_24h == 1 and not figures.opt_outs_final
    # Two delivered marketing templates at the price table's rate.
    price = Price.objects.get(country="DE", category="MARKETING").amount
    assert figures.actual_cost == (2 * price).quantize(Decimal("0.01")) > 0


def test_running_it_again_counts_nothing_twice(town):
    sent_post(town["author"], town["people"], [SendState.READ] * 3)
    rollup.refresh(timezone.now())
    first = list(SubscriberDay.objects.values())
    first_figures = list(PostFigures.objects.values("total", "read", "opt_outs_24h"))
    for _ in range(3):
        rollup.refresh(timezone.now())
    assert list(SubscriberDay.objects.values()) == first
    assert list(PostFigures.objects.values("total", "read", "opt_outs_24h")) == first_figures
    assert AudienceDay.objects.count() == 2
    # New ledger lines after the last run are counted once, on top.
    newcomer = active_subscriber("491700000099")
    rollup.refresh(timezone.now())
    rollup.refresh(timezone.now())
    today = SubscriberDay.objects.get(day=rollup.local_day(timezone.now()))
    assert today.confirmed == 7 and today.active == 6
    subscribers.unsubscribe(newcomer, wording="Stop")
    rollup.refresh(timezone.now())
    today.refresh_from_db()
    assert today.withdrawn == 2 and today.active == 5


def test_a_late_read_on_an_old_post_reaches_its_figures(town):
    post = sent_post(
        town["author"], town["people"], [SendState.DELIVERED] * 3, started_ago=timedelta(days=40)
    )
    rollup.refresh(timezone.now())
    refreshed = PostFigures.objects.get(post=post).refreshed_at
    assert PostFigures.objects.get(post=post).opt_outs_final
    # An untouched old post is not counted again.
    later = timezone.now()
    assert rollup.refresh(later).posts == 0
    assert PostFigures.objects.get(post=post).refreshed_at == refreshed
    statuses.record(
        [
            StatusUpdate(
                message_id=f"wamid.DASH{post.pk}.1",
                status=DeliveryStatus.READ,
                timestamp=timezone.now(),
                recipient=NUMBERS[1],
            )
        ]
    )
    result = rollup.refresh(timezone.now())
    assert result.posts == 1
    figures = PostFigures.objects.get(post=post)
    assert (figures.delivered, figures.read) == (3, 1)


def test_a_post_being_sent_is_counted_every_time(town):
    post = sent_post(town["author"], town["people"], [SendState.QUEUED, SendState.READ])
    Post.objects.filter(pk=post.pk).update(status=Post.Status.SENDING)
    rollup.refresh(timezone.now())
    assert PostFigures.objects.get(post=post).queued == 1
    Delivery.objects.filter(post=post, state=SendState.QUEUED).update(state=SendState.SENT)
    assert rollup.refresh(timezone.now()).posts == 1
    figures = PostFigures.objects.get(post=post)
    assert (figures.queued, figures.sent) == (0, 2)


def test_erasure_keeps_the_counts_and_leaves_nothing_personal_in_them(town):
    post = sent_post(town["author"], town["people"], [SendState.READ] * 3)
    rollup.refresh(timezone.now())
    erased = town["people"][0]
    phone_index = erased.phone_index
    subscribers.erase(erased, wording="Löschen")
    # The audience is counted every ten minutes, not every minute.
    rollup.refresh(timezone.now() + rollup.AUDIENCE_EVERY)
    figures = PostFigures.objects.get(post=post)
    assert figures.total == 3 and figures.read == 3  # the delivery stays, anonymous
    today = SubscriberDay.objects.get(day=rollup.local_day(timezone.now()))
    assert today.active == 4 and today.erased == 1
    assert AudienceDay.objects.get(kind="topic").active == 1
    stored = json.dumps(
        [
            list(SubscriberDay.objects.values()),
            list(AudienceDay.objects.values()),
            list(PostFigures.objects.values()),
        ],
        default=str,
    )
    for personal in [NUMBERS[0], phone_index, erased.phone]:
        assert personal not in stored


@pytest.mark.django_db(transaction=True)
def test_a_second_worker_skips_while_one_is_running(town):
    """On PostgreSQL the lock row is taken with SKIP LOCKED: a concurrent rollup does
    nothing instead of waiting or counting the same again."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writing transaction at a time anyway")
    rollup.refresh(timezone.now())
    outcome = {}
    with transaction.atomic():
        Rollup.objects.select_for_update().get(pk=1)

        def other() -> None:
            outcome["result"] = rollup.refresh(timezone.now())
            connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=30)
    assert outcome["result"].ran is False


def test_the_command_refreshes_for_operators(town, capsys):
    call_command("refresh_dashboards")
    assert "post(s) counted" in capsys.readouterr().out
    assert Rollup.objects.get(pk=1).ran_at is not None


def test_days_before_the_first_rollup_are_filled_from_the_ledger(town):
    from stadtbote.dashboards import figures

    rollup.refresh(timezone.now())
    today = rollup.local_day(timezone.now())
    # A day's flows from a week ago, as if the ledger had them: that day has no snapshot.
    SubscriberDay.objects.create(day=today - timedelta(days=7), confirmed=3)
    SubscriberDay.objects.filter(day=today).update(confirmed=6, withdrawn=1)
    days = figures.subscriber_days(today - timedelta(days=9), today)
    assert len(days) == 10
    assert days[-1].active == 5 and not days[-1].estimated
    # Before today: today's count less today's net flow (6 joined, 1 left).
    assert days[-2].active == 0 and days[-2].estimated
    assert days[0].active == 0


def test_the_worker_runs_the_rollup_every_minute(town):
    from huey.contrib.djhuey import HUEY

    from stadtbote.dashboards import tasks

    # What the consumer's scheduler asks every minute: which periodic tasks are due now.
    due = {type(task).__name__ for task in HUEY.read_periodic(timezone.now())}
    assert "refresh_dashboards" in due
    tasks.refresh_dashboards.call_local()
    assert Rollup.objects.get(pk=1).ran_at is not None
