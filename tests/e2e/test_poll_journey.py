"""Polls and reactions on the emulator's phones, against the real app and its dispatcher:
reply buttons, a list, both kinds of template quick replies outside the 24-hour window, a
changed vote, a repeated, a reordered and a late webhook, a tap after closing, and emoji
reactions counted, replaced, taken back and ignored where they do not belong."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import ACCEPTED
from tests.e2e.phone import Emulator, Phone, text_of
from tests.e2e.stack import Stack, request, wait_until

pytestmark = pytest.mark.e2e

ANNA, BERT, CARLA = "491701110001", "491701110002", "491701110003"  # Carla: outside the window
FIVE = ["Radweg", "Bäume", "Bänke", "Spielplatz", "Licht"]

_SETUP = """
from django.contrib.auth.models import User
from stadtbote.accounts import roles
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import templates
from stadtbote.broadcasts.models import Template
for name, role in (("redaktion", Role.EDITOR), ("freigabe", Role.APPROVER)):
    roles.assign(User.objects.create_user(name, f"{name}@stadt.example"), role)
for name, buttons in (("umfrage_abstimmen", ["Abstimmen"]), ("umfrage_ja_nein", ["Ja", "Nein"])):
    template = Template.objects.create(
        name=name, language="de", body="Die Stadt fragt: {{1}}", buttons=buttons
    )
    print(templates.register(template).status)
"""

# An editor writes the polls, another person approves them; the worker's dispatcher sends.
_POLLS = """
import json
from django.contrib.auth.models import User
from stadtbote.broadcasts import actions as posts
from stadtbote.polls import actions
editor, approver = User.objects.get(username="redaktion"), User.objects.get(username="freigabe")
made = {}
for key, fields in json.loads(POLLS).items():
    poll = actions.create_poll(editor, **fields)
    posts.submit(poll.post, editor)
    posts.approve(poll.post, approver)
    made[key] = poll.pk
print(json.dumps(made))
"""

_RESULTS = """
import json
from stadtbote.broadcasts import reactions
from stadtbote.polls import results
from stadtbote.polls.models import Poll
answer = []
for poll in Poll.objects.select_related("post").filter(pk__in=POLLS).order_by("pk"):
    found = results.results(poll)
    answer.append({
        "votes": [o.votes for o in found.options], "voters": found.voters,
        "reached": found.reached, "rejected": found.rejected, "late": found.late,
        "reactions": reactions.counts(poll.post),
    })
print(json.dumps(answer))
"""

_CLOSE = """
from django.contrib.auth.models import User
from stadtbote.polls import actions
from stadtbote.polls.models import Poll
poll = actions.close(Poll.objects.get(pk=POLL), User.objects.get(username="redaktion"))
print(poll.closed_at.timestamp())
"""

# Carla last wrote more than 24 hours ago: the app must invite her with a template.
_WINDOW_CLOSED = """
from datetime import timedelta
from django.utils import timezone
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import Subscriber
carla = subscribers.find("NUMBER")
Subscriber.objects.filter(pk=carla.pk).update(last_inbound_at=timezone.now() - timedelta(hours=25))
"""


def test_citizens_vote_and_react_on_their_phones(stack):
    try:
        _journey(stack, Emulator(stack), {n: Phone(stack, n) for n in (ANNA, BERT, CARLA)})
    except AssertionError:
        print(stack.logs())
        raise


def _journey(stack: Stack, emulator: Emulator, phones: dict[str, Phone]) -> None:
    anna, bert, carla = phones[ANNA], phones[BERT], phones[CARLA]
    for phone in phones.values():
        phone.write("Start")
        question = phone.wait_for(lambda m: m["type"] == "interactive", "the question")
        phone.tap(question, "subscription:confirm")
        phone.wait_for_text("Willkommen")

    # Two quick-reply templates, submitted by the app and approved in the emulator (Meta).
    emulator.configure(auto_approve_templates=False)
    assert stack.command("shell", "-c", _SETUP).split()[-2:] == ["PENDING", "PENDING"]
    for name in ("umfrage_abstimmen", "umfrage_ja_nein"):
        status, body = request(
            "POST",
            f"{stack.emulator_url}/_emulator/templates/{name}/de/status",
            {"status": "APPROVED"},
        )
        assert status == 200, body
    wait_until(
        lambda: (
            stack.query("SELECT status FROM broadcasts_template ORDER BY name")
            == [("APPROVED",), ("APPROVED",)]
        ),
        what="the templates approved in the app (status webhook)",
    )

    # 1. Reply buttons (two answers) and a list (five answers, several allowed).
    polls = _polls(
        stack,
        buttons={"title": "Radweg", "question": "Soll der Radweg kommen?", "answers": ["Ja", "Nein"]},
        listed={"title": "Wünsche", "question": "Was wünschen Sie sich?", "answers": FIVE,
                "multiple": True},
    )  # fmt: skip
    asked = {
        n: p.wait_for(_interactive_with("Radweg kommen"), "the buttons") for n, p in phones.items()
    }
    ids = [b["reply"]["id"] for b in asked[ANNA]["interactive"]["action"]["buttons"]]
    assert [b["reply"]["title"] for b in asked[ANNA]["interactive"]["action"]["buttons"]] == [
        "Ja",
        "Nein",
    ]
    assert ids == [i for i in ids if i.startswith(f"poll:{polls['buttons']}:")]
    _answered(anna, lambda: anna.tap(asked[ANNA], ids[0]), "Ihre Stimme ist gezählt: *Ja*")
    _answered(anna, lambda: anna.tap(asked[ANNA], ids[1]), "Ihre Stimme ist gezählt: *Nein*")
    _answered(bert, lambda: bert.tap(asked[BERT], ids[0]), "Ihre Stimme ist gezählt: *Ja*")

    lists = {
        n: p.wait_for(_interactive_with("wünschen Sie"), "the list") for n, p in phones.items()
    }
    rows = _rows(lists[BERT])
    assert [r["title"] for r in rows] == FIVE
    _answered(bert, lambda: bert.pick(lists[BERT], rows[4]["id"]), "Ihre Auswahl: *Licht*")
    _answered(anna, lambda: anna.pick(lists[ANNA], rows[1]["id"]), "Ihre Auswahl: *Bäume*")
    _answered(anna, lambda: anna.pick(lists[ANNA], rows[4]["id"]), "Ihre Auswahl: *Bäume, Licht*")
    radweg, listed = _results(stack, polls["buttons"], polls["listed"])
    assert radweg["votes"] == [1, 1]
    assert (listed["votes"], listed["voters"], listed["reached"]) == ([0, 1, 0, 0, 2], 2, 3)

    # 2. Meta sends a webhook twice: the repeated pick must not take the answer back.
    _settle(stack, emulator, phones)
    emulator.add_fault(route="webhooks", kind="duplicate", times=1)
    picked = _answered(
        bert, lambda: bert.pick(lists[BERT], rows[0]["id"]), "Ihre Auswahl: *Radweg, Licht*"
    )
    _settle(stack, emulator, phones)
    assert _delivered(emulator, picked) == 2  # the emulator did send it twice
    assert _votes(stack, polls["listed"]) == [1, 1, 0, 0, 2]

    # 3. Outside the 24-hour window: a template whose one button opens the poll, and one
    # whose buttons are the answers.
    polls |= _polls(
        stack,
        before=_WINDOW_CLOSED.replace("NUMBER", CARLA),
        opener={"title": "Markt", "question": "Soll der Markt samstags bleiben?",
                "answers": ["Ja", "Nein", "Egal"], "template": "umfrage_abstimmen"},
        direct={"title": "Tempo 30", "question": "Tempo 30 in der Altstadt?",
                "answers": ["Ja", "Nein"], "template": "umfrage_ja_nein"},
    )  # fmt: skip
    invitation = carla.wait_for(_template_with("Markt samstags"), "the template with one button")
    assert _quick_replies(invitation) == [("Abstimmen", f"poll:{polls['opener']}:open")]
    seen = carla.count_received()
    carla.send(
        {
            "type": "button",
            "payload": f"poll:{polls['opener']}:open",
            "context_id": invitation["id"],
        }
    )
    opened = carla.wait_for_new(seen, "the poll itself")
    assert "Markt samstags" in text_of(opened)
    egal = opened["interactive"]["action"]["buttons"][2]["reply"]
    assert egal["title"] == "Egal"
    _answered(carla, lambda: carla.tap(opened, egal["id"]), "Ihre Stimme ist gezählt: *Egal*")

    direct = carla.wait_for(_template_with("Tempo 30"), "the template with the answers")
    replies = _quick_replies(direct)
    assert [text for text, _ in replies] == ["Ja", "Nein"]
    _answered(
        carla,
        lambda: carla.send({"type": "button", "text": "Nein", "context_id": direct["id"]}),
        "Ihre Stimme ist gezählt: *Nein*",
    )
    opener, direct_results = _results(stack, polls["opener"], polls["direct"])
    assert (opener["votes"], direct_results["votes"]) == ([0, 0, 1], [0, 1])

    # 4. Reordered: Anna taps "Ja", a second later "Nein"; the emulator holds both back and
    # delivers "Nein" first. The older "Ja" arriving last changes nothing.
    tempo = anna.wait_for(_interactive_with("Tempo 30"), "Tempo 30 as buttons")
    yes, no = (b["reply"]["id"] for b in tempo["interactive"]["action"]["buttons"])
    _settle(stack, emulator, phones)
    emulator.configure(seed=_swapping_seed(), webhook_reorder_window=2, webhook_reorder_hold=30)
    seen = anna.count_received()
    first = _sent_id(anna, lambda: anna.tap(tempo, yes))
    _next_second(stack)
    second = _sent_id(anna, lambda: anna.tap(tempo, no))
    anna.wait_for_text("Ihre Stimme ist gezählt: *Nein*")
    _settle(stack, emulator, phones)
    emulator.configure(webhook_reorder_window=0)
    order = [a["message_id"] for a in _attempts(emulator) if a["message_id"] in (first, second)]
    assert order == [second, first], "the emulator was to deliver the newer tap first"
    assert _votes(stack, polls["direct"]) == [0, 2]
    # Only the newer tap is confirmed; the older one, arriving last, gets no answer.
    assert [text_of(m).split("\n")[0] for m in anna.received()[seen:]] == [
        "Danke, Ihre Stimme ist gezählt: *Nein*."
    ]

    # 5. Late: Bert taps before the poll closes, but the webhook arrives after it closed.
    bert_tempo = bert.wait_for(_interactive_with("Tempo 30"), "Tempo 30 as buttons")
    _settle(stack, emulator, phones)
    emulator.configure(webhook_reorder_window=2, webhook_reorder_hold=60)
    closing: list[float] = []
    late = _answered(
        bert,
        lambda: (
            bert.tap(bert_tempo, bert_tempo["interactive"]["action"]["buttons"][0]["reply"]["id"]),
            closing.append(_close(stack, polls["direct"])),
            emulator.configure(webhook_reorder_window=0),  # lets the held webhook go
        ),
        "Ihre Stimme ist gezählt: *Ja*",
    )
    arrived = [a["time"] for a in _attempts(emulator) if a["message_id"] == late]
    assert arrived and arrived[0] > closing[0], "the tap was to arrive after the closing"
    assert _votes(stack, polls["direct"]) == [1, 2]

    # 6. A tap after closing gets a polite answer and counts nowhere.
    closed_at = _close(stack, polls["buttons"])
    wait_until(lambda: _emulator_time(stack) > closed_at, what="a second after closing")
    _answered(anna, lambda: anna.tap(asked[ANNA], ids[0]), "Diese Umfrage ist seit")
    assert _votes(stack, polls["buttons"]) == [1, 1]

    # 7. Reactions to the poll's message: counted, replaced, taken back; a reaction to a chat
    # answer is not the post's.
    def react(phone: Phone, message: dict[str, Any], emoji: str) -> None:
        phone.send({"type": "reaction", "message_id": message["id"], "emoji": emoji})

    def reactions_now() -> dict[str, int]:
        _settle(stack, emulator, phones)
        rows = stack.query(
            "SELECT emoji, count(*) FROM broadcasts_postreaction WHERE post_id ="
            " (SELECT post_id FROM polls_poll WHERE id = %s) AND emoji <> '' GROUP BY emoji",
            [polls["buttons"]],
        )
        return dict(rows)

    react(anna, asked[ANNA], "👍")
    react(bert, asked[BERT], "❤️")
    assert reactions_now() == {"❤️": 1, "👍": 1}
    react(anna, asked[ANNA], "🎉")
    assert reactions_now() == {"❤️": 1, "🎉": 1}
    react(bert, asked[BERT], "")
    assert reactions_now() == {"🎉": 1}
    answer = anna.wait_for_text("Diese Umfrage ist seit")
    react(anna, answer, "😂")  # on the chat's answer, not on the poll
    react(carla, invitation, "🙏")  # a template message is the post's too
    assert reactions_now() == {"🎉": 1}
    # In the end, the app's own results and counts: the tap after closing is late, the late
    # webhook of a tap before closing is not; the template message's reaction is counted.
    radweg, _, markt, tempo_30 = _results(stack, *polls.values())
    assert (radweg["votes"], radweg["late"], radweg["rejected"]) == ([1, 1], 1, 0)
    assert (tempo_30["votes"], tempo_30["late"], tempo_30["voters"]) == ([1, 2], 0, 3)
    assert (radweg["reactions"], markt["reactions"]) == ({"🎉": 1}, {"🙏": 1})


# --- helpers --------------------------------------------------------------------------------


def _polls(stack: Stack, *, before: str = "", **polls: dict[str, Any]) -> dict[str, int]:
    """Writes, submits and approves the polls; `before` is run first, in the same shell."""
    script = before + _POLLS.replace("POLLS", repr(json.dumps(polls)))
    out = stack.command("shell", "-c", script)
    return {k: int(v) for k, v in json.loads(out.strip().splitlines()[-1]).items()}


def _results(stack: Stack, *polls: int) -> list[dict[str, Any]]:
    """The app's results of these polls (in the order of their ids), one shell for all."""
    out = stack.command("shell", "-c", _RESULTS.replace("POLLS", repr(sorted(polls))))
    found: list[dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
    return found


def _votes(stack: Stack, poll: int) -> list[int]:
    """The current votes per answer, read from the app's database while it runs."""
    rows = stack.query(
        "SELECT o.position, count(v.id) FROM polls_option o"
        " LEFT JOIN polls_vote v ON v.option_id = o.id WHERE o.poll_id = %s"
        " GROUP BY o.position ORDER BY o.position",
        [poll],
    )
    return [n for _, n in rows]


def _close(stack: Stack, poll: int) -> float:
    """Closes the poll now; returns the closing time (Unix seconds)."""
    return float(stack.command("shell", "-c", _CLOSE.replace("POLL", str(poll))).split()[-1])


def _interactive_with(fragment: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "interactive" and fragment in text_of(m)


def _template_with(fragment: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: (
        m["type"] == "template" and fragment in json.dumps(m.get("template"), ensure_ascii=False)
    )


def _quick_replies(message: dict[str, Any]) -> list[tuple[str, str]]:
    template = message["template"]
    buttons = [
        *template.get("buttons", []),
        *[
            b
            for c in template.get("components", [])
            if str(c.get("type", "")).lower() == "buttons"
            for b in c.get("buttons", [])
        ],
    ]
    return [(b["text"], b["payload"]) for b in buttons if b.get("type") == "quick_reply"]


def _rows(message: dict[str, Any]) -> list[dict[str, str]]:
    return [r for s in message["interactive"]["action"]["sections"] for r in s["rows"]]


def _sent_id(phone: Phone, act: Callable[[], Any]) -> str:
    """The id of the message the phone sends by `act` (its newest incoming one)."""
    act()
    return str([m for m in phone.messages() if m["direction"] == "in"][-1]["id"])


def _answered(phone: Phone, act: Callable[[], Any], fragment: str) -> str:
    """Does `act` and waits for the city's answer; returns the id of the phone's message."""
    seen = phone.count_received()
    sent = _sent_id(phone, act)
    wait_until(
        lambda: any(fragment in text_of(m) for m in phone.received()[seen:]),
        what=f"an answer with {fragment!r}",
    )
    return sent


def _attempts(emulator: Emulator) -> list[dict[str, Any]]:
    status, body = request("GET", f"{emulator.base}/webhooks")
    assert status == 200, body
    return list(body["attempts"])


def _delivered(emulator: Emulator, message_id: str) -> int:
    return sum(1 for a in _attempts(emulator) if a["message_id"] == message_id and a["ok"])


def _emulator_time(stack: Stack) -> int:
    status, body = request("GET", f"{stack.emulator_url}/_emulator/clock")
    assert status == 200, body
    return int(body["timestamp"])


def _next_second(stack: Stack) -> None:
    """Meta's times are whole seconds: two taps a second apart are told apart by time."""
    now = _emulator_time(stack)
    wait_until(lambda: _emulator_time(stack) > now, what="the next second")


def _swapping_seed() -> int:
    """A seed whose first shuffle of two held webhooks swaps them (the emulator seeds its
    webhook generator with "<seed>:webhooks", see whatsapp_emulator.webhooks._seed)."""
    for seed in range(100):
        pair = [0, 1]
        random.Random(f"{seed}:webhooks").shuffle(pair)
        if pair == [1, 0]:
            return seed
    raise AssertionError("no seed swaps two events")


def _settle(stack: Stack, emulator: Emulator, phones: dict[str, Phone]) -> None:
    """Until everything sent has its status, the emulator has delivered every webhook and
    the app has applied them: nothing is on its way."""

    def quiet() -> bool:
        status, body = request("GET", f"{emulator.base}/webhooks/pending")
        if status != 200 or body["pending"]:
            return False
        if any(
            m["status"] not in ("delivered", "read", "failed")
            for p in phones.values()
            for m in p.received()
        ):
            return False
        pending = stack.query(
            "SELECT (SELECT count(*) FROM channels_inboundwebhook WHERE state = 'pending')"
            " + (SELECT count(*) FROM dialogue_reply WHERE state < %s)",
            [ACCEPTED],
        )
        return pending[0][0] == 0

    wait_until(quiet, what="nothing on its way")
