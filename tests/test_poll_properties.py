"""Votes and reactions as properties: whatever taps and reactions arrive through the webhook,
in whatever order, twice, late, forged or after an erasure, the counted results equal a model
computed here from the taps alone.

The model (single answer: each subscriber's newest tap before closing; several answers: the
answers tapped an odd number of times before closing; reactions: each delivery's newest
reaction) never looks at the database, so it is an independent statement of the voting rules
in polls/voting.py and broadcasts/reactions.py. Meta's times are whole seconds: of two taps
made within the same second, the one that reached us later counts (nothing else can tell
them apart), and a message seen before by its id changes nothing.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stadtbote.broadcasts import actions as posts
from stadtbote.broadcasts import reactions
from stadtbote.broadcasts import tasks as sending
from stadtbote.broadcasts.models import Delivery
from stadtbote.channels.models import InboundWebhook, SendState
from stadtbote.channels.sending import SendLoop
from stadtbote.dialogue import tasks, texts
from stadtbote.dialogue.models import Reply
from stadtbote.polls import actions, results
from stadtbote.polls.models import Poll
from tests.helpers import active_subscriber, compact, envelope, post_webhook

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    # The same examples on every run (as in test_api_contract.py): a failure can be reproduced.
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NUMBERS = ["491511000001", "491511000002", "491511000003"]  # the poll went to them
OUTSIDER = "491511000009"  # subscribed after the poll went out
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Meta's timestamps: whole seconds
STEP = 10  # seconds between two taps in the order the citizens made them
_wamids = itertools.count(1)


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)
    monkeypatch.setattr(
        SendLoop, "send_many", lambda self, items: [f"wamid.OUT{next(_wamids)}" for _ in items]
    )


@pytest.fixture
def staff(django_user_model):
    editor = django_user_model.objects.create(username="editor")
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_post", "change_post", "approve_post"])
    )
    approver = django_user_model.objects.create(username="approver")
    approver.user_permissions.add(*Permission.objects.filter(codename="approve_post"))
    return (
        django_user_model.objects.get(pk=editor.pk),
        django_user_model.objects.get(pk=approver.pk),
    )


def sent_poll(staff, answers: list[str], *, multiple: bool) -> Poll:
    editor, approver = staff
    poll = actions.create_poll(
        editor, title="Umfrage", question="Was meinen Sie?", answers=answers, multiple=multiple
    )
    posts.submit(poll.post, editor)
    posts.approve(poll.post, approver)
    while sending.dispatch_once():
        pass
    return Poll.objects.select_related("post").get(pk=poll.pk)


@pytest.fixture
def each_example_on_its_own():
    """Every example starts from the same database: its rows are rolled back afterwards."""

    class Rollback(Exception):
        pass

    def run(body):
        try:
            with transaction.atomic():
                body()
                raise Rollback
        except Rollback:
            pass

    return run


# --- the webhook path ----------------------------------------------------------------------


def _deliver(client: Client, message: dict[str, Any], *, contacts: bool) -> None:
    """One citizen message in a webhook body as Meta sends it, then the worker's turn."""
    value: dict[str, Any] = {"messages": [message]}
    if contacts:
        value["contacts"] = [{"profile": {"name": "Bürger"}, "wa_id": message["from"]}]
    response = post_webhook(client, compact(envelope(value)))
    assert response.status_code == 200
    tasks.apply_inbound_once()


def _timestamp(at: datetime) -> str:
    return str(int(at.timestamp()))


def tap_message(sender: str, message_id: str, at: datetime, choice: str, how: str) -> dict:
    common = {"from": sender, "id": message_id, "timestamp": _timestamp(at)}
    if how == "button":  # a template's quick reply
        return {**common, "type": "button", "button": {"payload": choice, "text": "Ja"}}
    return {
        **common,
        "type": "interactive",
        "interactive": {"type": how, how: {"id": choice, "title": "Antwort"}},
    }


def reaction_message(sender: str, message_id: str, at: datetime, target: str, emoji: str) -> dict:
    return {
        "from": sender,
        "id": message_id,
        "timestamp": _timestamp(at),
        "type": "reaction",
        "reaction": {"message_id": target, "emoji": emoji},
    }


# --- what arrives: taps in the order made, then moved later, repeated, interrupted -----------


@dataclass(frozen=True)
class Tap:
    sender: int  # index into NUMBERS; len(NUMBERS) is the outsider
    poll: str  # "single" or "multiple"
    choice: tuple[str, int]  # ("answer", position), ("forged", 0), ("other_poll", position), ...
    how: str  # button_reply, list_reply or button
    at: datetime
    message_id: str


@dataclass(frozen=True)
class Close:
    poll: str
    at: datetime


@dataclass(frozen=True)
class Erase:
    sender: int


@dataclass(frozen=True)
class Again:
    """A webhook of an earlier message once more: the same bytes, or the same message in a
    body that differs (which the intake's content hash cannot catch)."""

    original: Any
    same_bytes: bool


# Not a tap on any poll we have: ignored, not even counted as rejected.
MALFORMED = ("no_poll", "huge_id", "empty_key", "long_key", "odd_digits")
CHOICES = st.one_of(
    st.tuples(st.just("answer"), st.integers(0, 3)),
    st.tuples(st.sampled_from(["forged", "other_poll", "open", *MALFORMED]), st.integers(0, 3)),
)


def arrivals(draw, made: list[Any], closes: dict[str, datetime]) -> list[Any]:
    """The events in the order they reach us: each may come later than made (but a tap made
    after a poll closed cannot come before the closing), some twice, and an erasure between."""
    keyed: list[tuple[float, int, Any]] = []
    position = 0
    pending = dict(closes)
    for event in made:
        for name, at in list(pending.items()):
            if event.at >= at:
                keyed.append((position, 0, Close(name, pending.pop(name))))
                position += 1
        delay = draw(st.integers(0, 4))
        keyed.append((position + delay, 1, event))
        if draw(st.integers(0, 5)) == 0:
            again = Again(event, same_bytes=draw(st.booleans()))
            keyed.append((position + delay + draw(st.integers(0, 4)), 2, again))
        position += 1
    keyed += [(position, 0, Close(name, at)) for name, at in pending.items()]
    if draw(st.booleans()):
        who = draw(st.integers(0, len(NUMBERS) - 1))
        keyed.append((draw(st.integers(0, position + 4)) + 0.5, 3, Erase(who)))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in keyed]


def times(draw, count: int) -> list[datetime]:
    """When the citizens tapped, in order. Meta's times are whole seconds, so two taps within
    one second carry the same time."""
    found, at = [], START
    for _ in range(count):
        at += timedelta(seconds=draw(st.sampled_from([0, STEP, STEP])))
        found.append(at)
    return found


@st.composite
def tap_sequences(draw) -> list[Any]:
    count = draw(st.integers(0, 12))
    taps = [
        Tap(
            sender=draw(st.integers(0, len(NUMBERS))),
            poll=draw(st.sampled_from(["single", "multiple"])),
            choice=draw(CHOICES),
            how=draw(st.sampled_from(["button_reply", "list_reply", "button"])),
            at=at,
            message_id=f"wamid.TAP{n}",
        )
        for n, at in enumerate(times(draw, count))
    ]
    closes = {
        # Between two taps (or after the last): Meta's whole seconds against our exact clock.
        name: START + timedelta(seconds=STEP * draw(st.integers(0, count + 1)) - STEP // 2)
        for name in ("single", "multiple")
        if draw(st.booleans())
    }
    return arrivals(draw, taps, closes)


# --- the model --------------------------------------------------------------------------------


@dataclass
class PollModel:
    multiple: bool
    answers: int
    closes_at: datetime | None = None
    single: dict[int, tuple[datetime, int]] = field(default_factory=dict)
    several: dict[int, set[int]] = field(default_factory=dict)
    rejected: int = 0
    late: int = 0

    def counts(self) -> list[int]:
        if self.multiple:
            return [
                sum(p in chosen for chosen in self.several.values()) for p in range(self.answers)
            ]
        chosen = Counter(position for _, position in self.single.values())
        return [chosen[p] for p in range(self.answers)]

    def voters(self) -> int:
        if self.multiple:
            return sum(1 for chosen in self.several.values() if chosen)
        return len(self.single)

    def tap(self, who: int, kind: str, position: int, at: datetime) -> None:
        if who == len(NUMBERS):  # not sent to them: whatever they tap on this poll is refused
            if kind not in MALFORMED:
                self.rejected += 1
            return
        if kind in ("forged", "other_poll"):
            self.rejected += 1
        if kind != "answer" or position >= self.answers:
            if kind == "answer":
                self.rejected += 1  # a position this poll does not have: a forged key too
            return
        if self.closes_at is not None and at >= self.closes_at:
            self.late += 1
            return
        if self.multiple:
            self.several.setdefault(who, set()).symmetric_difference_update({position})
        elif who not in self.single or self.single[who][0] <= at:
            self.single[who] = (at, position)

    def erase(self, who: int) -> None:
        self.single.pop(who, None)
        self.several.pop(who, None)


def expected(sequence: list[Any], answers: dict[str, int]) -> dict[str, PollModel]:
    models = {name: PollModel(name == "multiple", n) for name, n in answers.items()}
    for event in sequence:
        if isinstance(event, Close):
            models[event.poll].closes_at = event.at
    handled: set[str] = set()
    erased: set[int] = set()
    for event in sequence:
        if isinstance(event, Erase):
            erased.add(event.sender)
            for model in models.values():
                model.erase(event.sender)
            continue
        tap = event.original if isinstance(event, Again) else event
        # Once erased, the number is a stranger who is not subscribed: its taps do nothing.
        if not isinstance(tap, Tap) or tap.sender in erased or tap.message_id in handled:
            continue
        handled.add(tap.message_id)
        models[tap.poll].tap(tap.sender, tap.choice[0], tap.choice[1], tap.at)
    return models


# --- the properties -------------------------------------------------------------------------


def _choice_id(polls: dict[str, Poll], keys: dict[str, list[str]], tap: Tap) -> str:
    poll, kind, position = polls[tap.poll], tap.choice[0], tap.choice[1]
    mine, theirs = keys[tap.poll], keys["multiple" if tap.poll == "single" else "single"]
    return {
        "answer": f"poll:{poll.pk}:{mine[position]}" if position < len(mine) else None,
        "forged": f"poll:{poll.pk}:ffffffff",
        "other_poll": f"poll:{poll.pk}:{theirs[position % len(theirs)]}",
        "open": f"poll:{poll.pk}:open",
        "no_poll": f"poll:{poll.pk + 100000}:{mine[0]}",
        "empty_key": f"poll:{poll.pk}:",
        "long_key": f"poll:{poll.pk}:" + "k" * 17,
        "huge_id": f"poll:{'9' * 30}:{mine[0]}",
        "odd_digits": f"poll:{'²' * (position + 1)}:{mine[0]}",
    }[kind] or f"poll:{poll.pk}:ffff{position:04d}"


@PROPERTY_SETTINGS
@given(sequence=tap_sequences())
def test_the_counts_always_equal_the_current_votes(staff, each_example_on_its_own, sequence):
    def example() -> None:
        for number in NUMBERS:
            active_subscriber(number)
        polls = {
            "single": sent_poll(staff, ["Ja", "Nein", "Egal"], multiple=False),
            "multiple": sent_poll(staff, ["Radweg", "Bäume", "Bänke", "Licht"], multiple=True),
        }
        active_subscriber(OUTSIDER)
        keys = {name: list(p.options.values_list("key", flat=True)) for name, p in polls.items()}
        numbers = [*NUMBERS, OUTSIDER]
        client = Client()
        for event in sequence:
            if isinstance(event, Close):
                poll = actions.close(polls[event.poll], staff[0])
                # Closed now, on the example's own clock (the taps' times are made up too).
                Poll.objects.filter(pk=poll.pk).update(closed_at=event.at)
                continue
            if isinstance(event, Erase):
                message = tap_message(
                    numbers[event.sender], f"wamid.ERASE{next(_wamids)}", START,
                    texts.ERASE_CONFIRM, "button_reply",
                )  # fmt: skip
                _deliver(client, message, contacts=True)
                continue
            tap = event.original if isinstance(event, Again) else event
            message = tap_message(
                numbers[tap.sender], tap.message_id, tap.at,
                _choice_id(polls, keys, tap), tap.how,
            )  # fmt: skip
            # The same bytes carry the contacts block; the other copy leaves it out.
            _deliver(client, message, contacts=not isinstance(event, Again) or event.same_bytes)

        # A forged id is refused, not an error: no webhook failed to apply.
        assert not InboundWebhook.objects.exclude(state=InboundWebhook.State.APPLIED).exists()
        model = expected(sequence, {"single": 3, "multiple": 4})
        for name, poll in polls.items():
            poll.refresh_from_db()
            found = results.results(poll)
            want = model[name]
            assert [o.votes for o in found.options] == want.counts(), name
            assert found.voters == want.voters(), name
            assert (found.rejected, found.late) == (want.rejected, want.late), name

    each_example_on_its_own(example)


# --- reactions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class React:
    sender: int  # index into NUMBERS; len(NUMBERS) is someone the post did not go to
    target: tuple[str, int]  # ("own", 0), ("other", n), ("answer", 0), ("unknown", 0)
    emoji: str
    at: datetime
    message_id: str


EMOJI = ["👍", "❤️", "😂", "", "🙏🏽", "x" * 40]  # "" takes it back; the last is no emoji


@st.composite
def reaction_sequences(draw) -> list[Any]:
    count = draw(st.integers(0, 14))
    made = []
    for n, at in enumerate(times(draw, count)):
        made.append(
            React(
                sender=draw(st.integers(0, len(NUMBERS))),
                target=draw(
                    st.one_of(
                        st.tuples(st.just("own"), st.just(0)),
                        st.tuples(st.just("other"), st.integers(0, len(NUMBERS) - 1)),
                        st.tuples(st.sampled_from(["answer", "unknown"]), st.just(0)),
                    )
                ),
                emoji=draw(st.sampled_from(EMOJI)),
                at=at,
                message_id=f"wamid.REACT{n}",
            )
        )
    return arrivals(draw, made, {})


def expected_reactions(sequence: list[Any]) -> Counter[str]:
    """Each delivery's newest reaction by its own recipient; of two with the same time, the
    one that came later. A message seen before (by its id) changes nothing."""
    current: dict[int, tuple[datetime, str]] = {}
    handled: set[str] = set()
    erased: set[int] = set()
    for event in sequence:
        if isinstance(event, Erase):
            erased.add(event.sender)
            current.pop(event.sender, None)
            continue
        react = event.original if isinstance(event, Again) else event
        if react.message_id in handled:
            continue
        handled.add(react.message_id)
        who = react.sender
        own = react.target[0] == "own" or (react.target == ("other", who))
        if who in erased or who == len(NUMBERS) or not own or len(react.emoji) > 32:
            continue
        if who not in current or current[who][0] <= react.at:
            current[who] = (react.at, react.emoji)
    return Counter(emoji for _, emoji in current.values() if emoji)


@PROPERTY_SETTINGS
@given(sequence=reaction_sequences())
def test_the_reaction_counts_always_equal_each_deliverys_newest_reaction(
    staff, each_example_on_its_own, sequence
):
    def example() -> None:
        subscribers = [active_subscriber(number) for number in NUMBERS]
        poll = sent_poll(staff, ["Ja", "Nein"], multiple=False)
        active_subscriber(OUTSIDER)
        sent = dict(Delivery.objects.filter(post=poll.post).values_list("subscriber", "message_id"))
        for n, subscriber in enumerate(subscribers):  # a chat answer each, already sent
            Reply.objects.create(
                subscriber=subscriber, content={"text": "Danke"}, state=SendState.SENT,
                message_id=f"wamid.ANSWER{n}",
            )  # fmt: skip
        numbers = [*NUMBERS, OUTSIDER]
        client = Client()
        for event in sequence:
            if isinstance(event, Erase):
                message = tap_message(
                    numbers[event.sender], f"wamid.ERASE{next(_wamids)}", START,
                    texts.ERASE_CONFIRM, "button_reply",
                )  # fmt: skip
                _deliver(client, message, contacts=True)
                continue
            react = event.original if isinstance(event, Again) else event
            kind, n = react.target
            target = {
                "own": sent.get(subscribers[react.sender].pk, "wamid.NOTSENT")
                if react.sender < len(subscribers)
                else "wamid.NOTSENT",
                "other": sent[subscribers[n].pk],
                "answer": f"wamid.ANSWER{min(react.sender, len(subscribers) - 1)}",
                "unknown": "wamid.UNKNOWN",
            }[kind]
            message = reaction_message(
                numbers[react.sender], react.message_id, react.at, target, react.emoji
            )
            _deliver(client, message, contacts=not isinstance(event, Again) or event.same_bytes)

        assert not InboundWebhook.objects.exclude(state=InboundWebhook.State.APPLIED).exists()
        assert Counter(reactions.counts(poll.post)) == expected_reactions(sequence)

    each_example_on_its_own(example)
