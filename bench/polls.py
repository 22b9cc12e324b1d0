"""Poll burst: a poll to 100,000 subscribers, 30 % of them answering within a minute (about
500 votes/s on top of status webhooks), counted without loss or double counting, with the
live results' server time during and after the burst. PostgreSQL + Redis only (the scaled
mode): `stadtbote run --no-worker --web-processes W` serving `POST /webhooks/whatsapp` on
127.0.0.1, `--workers` `stadtbote worker` processes applying the stored webhooks, and the
WhatsApp emulator (sending no webhooks) taking the confirmations the chat answers.

Set-up, untimed: `--subscribers` active subscribers (bench/seed.py); per poll kind a poll made
with polls.actions.create_poll (3 answers; `single`: one answer, `multiple`: several allowed),
submitted and approved like any post (the approval fans it out), and in the same transaction
its deliveries marked SENT with message ids (as other benchmarks do, to skip the real send);
then `--forged` more subscribers who joined after the polls went out.

Per poll kind, one burst: `--voters` different recipients tap an answer (interactive
`button_reply` with the poll's choice id, Meta's envelope with contacts and the context of the
poll message), spread evenly over voters ÷ `--rate` seconds, interleaved with
`--statuses-per-vote` status webhooks per vote (half `read` of voters' messages shortly before
their tap, half `delivered` of others'). On top: `--changes` of the voters tap again 1 to 20 s
later (single: another answer; `--out-of-order` of those second webhooks carry an older
timestamp than the first, i.e. Meta delivered an earlier tap late), `--same-body` of the taps
arrive twice as the same body, `--same-id` once more in a different body with the same message
id, and `--forged` taps are forged (half an answer key that is not the poll's, half a real
answer from someone the poll was not sent to). Bodies are built and signed before the clock
starts and sent open-loop at their planned times (webhook_intake.load with offsets) from
`--clients` processes with `--concurrency` keep-alive connections.

Checked at the end (the run fails otherwise): every POST answered 200; polls.results.results()
equal to the current votes the benchmark expects from what it sent (last tap by timestamp
wins; several answers: an answer tapped an odd number of times); rejected taps = forged ones;
each tap's message handled once; no stored webhook pending, failed or malformed; the read and
delivered statuses applied to exactly their deliveries.

Measured: the intake (requests/s, latency at the client), the apply (backlog, taps applied per
second, lag from the last POST to all applied), `results()` in this process against the same
database every `--results-every` s during the burst and after it (server time, as a page or the
API would spend it), the CPU time of each part, queries per tap and per status (in a
rolled-back transaction), and the load average at start and end.

    STADTBOTE_BENCH_REDIS_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/polls.py
        [--subscribers 100000] [--voters 30000] [--rate 500] [--kinds single,multiple]
        [--statuses-per-vote 1] [--workers 2] [--threads 2] [--web-processes 2]
        [--concurrency 64] [--clients 2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from common import (
    REDIS_URL,
    base_env,
    db_counter,
    emit,
    free_port,
    fresh_postgres,
    log,
    machine,
    median,
    percentile,
    process_stat,
    queue_length,
    redis_flushed,
    request,
    rounded,
    scratch_dir,
)
from seed import create_subscribers, number
from status_apply import envelope
from webhook_intake import (
    App,
    CpuAccount,
    Sampler,
    latency_ms,
    load,
    post_request,
    signed,
    wait_applied,
    wait_for,
)

ANSWERS = ("Ja", "Nein", "Egal")
WEIGHTS = (0.5, 0.3, 0.2)  # distinct shares, so a mix-up of answers would show
AFTER_SAMPLES = 30  # results() timings once everything is applied
TAGS = {"single": "A", "multiple": "B"}  # in message ids: wamid.P<tag>… / wamid.V<tag>…


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--voters", type=int, default=30_000)
    parser.add_argument("--rate", type=float, default=500, help="first taps per second")
    parser.add_argument("--kinds", default="single,multiple", help="single and/or multiple")
    parser.add_argument("--statuses-per-vote", type=float, default=1.0)
    parser.add_argument("--changes", type=float, default=0.10, help="share of voters")
    parser.add_argument("--out-of-order", type=float, default=0.3, help="share of changes")
    parser.add_argument("--same-body", type=float, default=0.02, help="share of taps")
    parser.add_argument("--same-id", type=float, default=0.01, help="share of taps")
    parser.add_argument("--forged", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="STADTBOTE_WORKER_THREADS")
    parser.add_argument("--web-processes", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64, help="connections in all")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes")
    parser.add_argument("--results-every", type=float, default=0.5, help="seconds")
    parser.add_argument(
        "--apply-timeout",
        type=float,
        default=900,
        help="seconds after the last POST for everything to be applied before giving up",
    )
    parser.add_argument("--seed", type=int, default=1, help="of the random plan")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the processes' logs there")
    return parser.parse_args(argv)


# --- the plan: every webhook of a burst, its time, and what it must lead to ----------------


@dataclass
class Tap:
    voter: int  # subscriber index: number(voter)
    answer: int  # option position
    timestamp: int  # Meta's, in seconds
    message_id: str
    counts: bool  # False: forged


@dataclass
class Plan:
    kind: str
    requests: list[bytes] = field(default_factory=list)
    offsets: list[float] = field(default_factory=list)
    taps: list[Tap] = field(default_factory=list)  # distinct messages, as sent first
    duplicates: dict[str, int] = field(default_factory=dict)
    reads: int = 0
    delivered: int = 0
    seconds: float = 0.0  # planned length of the burst

    @property
    def forged(self) -> int:
        return sum(1 for t in self.taps if not t.counts)

    def expected(self) -> tuple[list[int], int]:
        """Votes per answer and voters, from the counted taps."""
        counted = [t for t in self.taps if t.counts]
        if self.kind == "single":
            latest: dict[int, Tap] = {}
            for tap in counted:
                if tap.voter not in latest or tap.timestamp > latest[tap.voter].timestamp:
                    latest[tap.voter] = tap
            votes = Counter(t.answer for t in latest.values())
            return [votes[n] for n in range(len(ANSWERS))], len(latest)
        taps = Counter((t.voter, t.answer) for t in counted)
        chosen = [pair for pair, times in taps.items() if times % 2]  # each tap toggles
        votes = Counter(answer for _, answer in chosen)
        return [votes[n] for n in range(len(ANSWERS))], len({voter for voter, _ in chosen})


@dataclass(frozen=True)
class Target:
    """What the bodies need to know of a sent poll."""

    kind: str
    poll_id: int
    keys: list[str]  # option keys by position
    message_prefix: str  # the poll message of subscriber i is message_prefix + f"{i:08d}"
    subscribers: int  # recipients: subscriber indexes 0 … subscribers-1
    late_joiners: int  # indexes subscribers … subscribers+late_joiners-1: not sent the poll


def plan_burst(
    target: Target, args: argparse.Namespace, secret: str, phone_number_id: str, account: str
) -> Plan:
    rng = random.Random(f"{args.seed}-{target.kind}")
    tag = TAGS[target.kind]
    plan = Plan(kind=target.kind, seconds=args.voters / args.rate)
    span = plan.seconds
    base = int(time.time())  # the taps happen as the burst goes on
    timed: list[tuple[float, bytes]] = []
    sequence = iter(range(10**8))

    def choice(key: str) -> str:
        return f"poll:{target.poll_id}:{key}"

    def body(tap: Tap, key: str, name: str = "Bürger") -> bytes:
        recipient = number(tap.voter)
        message = {
            "context": {"from": "4915100000000", "id": f"{target.message_prefix}{tap.voter:08d}"},
            "from": recipient,
            "id": tap.message_id,
            "timestamp": str(tap.timestamp),
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": choice(key), "title": ANSWERS[tap.answer]},
            },
        }
        contacts = [{"profile": {"name": name}, "wa_id": recipient}]
        return envelope([], phone_number_id, account, contacts=contacts, messages=[message])

    def send(offset: float, data: bytes) -> None:
        timed.append((min(max(offset, 0.0), span), data))

    def tap(voter: int, answer: int, stamp: int, counts: bool = True) -> Tap:
        made = Tap(voter, answer, stamp, f"wamid.V{tag}{next(sequence):08d}", counts)
        plan.taps.append(made)
        return made

    voters = rng.sample(range(target.subscribers), args.voters)
    first: dict[int, tuple[float, Tap]] = {}
    for voter in voters:
        offset = rng.uniform(0, span)
        made = tap(voter, rng.choices(range(len(ANSWERS)), WEIGHTS)[0], base + int(offset))
        first[voter] = (offset, made)
        send(offset, body(made, target.keys[made.answer]))
    # A second tap by the same person, 1 to 20 s later; some delivered with an older timestamp.
    changers = [v for v in voters if first[v][0] < span - 1.5]
    for voter in rng.sample(changers, min(len(changers), round(args.changes * args.voters))):
        offset, earlier = first[voter]
        later = rng.uniform(offset + 1, min(offset + 20, span))
        if target.kind == "single":
            answer = rng.choice([n for n in range(len(ANSWERS)) if n != earlier.answer])
        else:
            answer = rng.randrange(len(ANSWERS))  # the same one again takes it back
        if rng.random() < args.out_of_order:
            stamp = earlier.timestamp - rng.randint(1, 30)  # tapped before, delivered after
        else:
            stamp = earlier.timestamp + max(1, int(later - offset))
        made = tap(voter, answer, stamp)
        send(later, body(made, target.keys[answer]))
    # Forged: an answer key that is not the poll's, or a real one from a late joiner.
    for n in range(args.forged):
        offset = rng.uniform(0, span)
        if n % 2 == 0:
            made = tap(rng.randrange(target.subscribers), 0, base + int(offset), counts=False)
            key = secrets.token_hex(4)
            while key in target.keys:
                key = secrets.token_hex(4)
        else:
            made = tap(target.subscribers + n % target.late_joiners, 0, base + int(offset), False)
            key = target.keys[0]
        send(offset, body(made, key))
    # Meta's repetitions: the same body again, or the same message in another body.
    counted = [t for t in plan.taps if t.counts]
    by_id = {t.message_id: t for t in counted}
    offsets = {data: offset for offset, data in timed}
    same_body = rng.sample(counted, round(args.same_body * len(counted)))
    for made in same_body:
        data = body(made, target.keys[made.answer])
        send(offsets[data] + rng.uniform(0.05, 5), data)
    same_id = rng.sample(counted, round(args.same_id * len(counted)))
    for made in same_id:
        original = body(made, target.keys[made.answer])
        send(offsets[original] + rng.uniform(0.05, 5), body(made, target.keys[made.answer], "B."))
    plan.duplicates = {"same_body": len(same_body), "same_id_other_body": len(same_id)}
    assert len(by_id) == len(counted)
    # Statuses, one per body (what Meta commonly sends): read just before a voter's tap,
    # delivered for recipients who do not vote.
    statuses = round(args.statuses_per_vote * args.voters)
    plan.reads = min(statuses // 2, len(voters))
    plan.delivered = min(statuses - plan.reads, target.subscribers - len(voters))
    for voter in voters[: plan.reads]:
        offset, made = first[voter]
        item = status(target, voter, "read", made.timestamp - rng.randint(1, 30))
        send(offset - rng.uniform(0.5, 3), envelope([item], phone_number_id, account))
    voted = set(voters)
    others = [i for i in range(target.subscribers) if i not in voted]
    for other in rng.sample(others, plan.delivered):
        offset = rng.uniform(0, span)
        item = status(target, other, "delivered", base + int(offset) - rng.randint(1, 60))
        send(offset, envelope([item], phone_number_id, account))
    timed.sort(key=lambda pair: pair[0])
    plan.offsets = [offset for offset, _ in timed]
    plan.requests = [post_request(data, signed(secret, data)) for _, data in timed]
    return plan


def status(target: Target, i: int, state: str, stamp: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": f"{target.message_prefix}{i:08d}",
        "status": state,
        "timestamp": str(stamp),
        "recipient_id": number(i),
    }
    if state == "delivered":
        item["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": "marketing"}}
        item["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "category": "marketing",
            "type": "regular",
        }
    return item


# --- set-up in this process (Django against the app's database) ---------------------------


def setup_django(env: dict[str, str]) -> None:
    """This process uses the app's database and keys to seed, create the polls and time
    results(); its environment becomes the app's."""
    os.environ.clear()
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "stadtbote.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def sent_poll(kind: str, first_id: int, count: int) -> tuple[int, list[str], str]:
    """A poll created, submitted and approved (which fans it out); in the same transaction
    its deliveries are marked SENT with message ids, so the dispatch job scheduled on commit
    finds nothing to send."""
    from django.db import transaction
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Cast, Concat, LPad
    from django.utils import timezone

    from seed import bench_user
    from stadtbote.broadcasts import actions as posts
    from stadtbote.broadcasts.models import Delivery
    from stadtbote.channels.models import SendState
    from stadtbote.polls import actions

    author, approver = bench_user("bench"), bench_user("approver")
    prefix = f"wamid.P{TAGS[kind]}"
    with transaction.atomic():
        poll = actions.create_poll(
            author,
            title=f"Bench poll ({kind})",
            question="Soll die Hauptstraße eine Fahrradstraße werden?",
            answers=list(ANSWERS),
            multiple=kind == "multiple",
        )
        posts.submit(poll.post, author)
        posts.approve(poll.post, approver)
        index = Cast(F("subscriber_id") - Value(first_id), output_field=CharField())
        marked = Delivery.objects.filter(post_id=poll.post_id).update(
            state=SendState.SENT,
            attempts=1,
            sent_at=timezone.now(),
            message_id=Concat(Value(prefix), LPad(index, 8, Value("0"))),
        )
    if marked != count:
        raise RuntimeError(f"the poll went to {marked} subscribers, not {count}")
    keys = list(poll.options.order_by("position").values_list("key", flat=True))
    return poll.pk, keys, prefix


def analyze() -> None:
    """Statistics as a running system has them (autovacuum is off on this server)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- measuring -------------------------------------------------------------------------------


class ResultsTimer(threading.Thread):
    """Calls polls.results.results() every `interval` seconds, as the live results would:
    (monotonic time, seconds) per call. The poll is read fresh before each call, untimed."""

    def __init__(self, poll_id: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.poll_id, self.interval = poll_id, interval
        self.samples: list[tuple[float, float]] = []
        self.errors = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self._stop_event.is_set():
                self.samples.append((time.monotonic(), time_results(self.poll_id)))
                self._stop_event.wait(self.interval)
        except Exception:
            self.errors += 1
            raise
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)


def time_results(poll_id: int) -> float:
    from stadtbote.polls.models import Poll
    from stadtbote.polls.results import results

    poll = Poll.objects.select_related("post").get(pk=poll_id)
    started = time.perf_counter()
    results(poll)
    return time.perf_counter() - started


def ms(values: list[float]) -> dict[str, Any]:
    return {
        "calls": len(values),
        "median": 1000 * (median(values) or 0),
        "p95": 1000 * (percentile(values, 95) or 0),
        "max": 1000 * max(values, default=0),
    }


class _Rollback(Exception):
    pass


def queries_of(body: bytes) -> list[str]:
    """The SQL one stored body costs when applied (as inbound.apply_pending does, without the
    batch's own select and mark), in a transaction that is rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from stadtbote.channels import statuses
    from stadtbote.channels.types import StatusUpdate
    from stadtbote.channels.whatsapp.parser import parse_tolerant
    from stadtbote.dialogue import router

    parsed = parse_tolerant(body)
    with CaptureQueriesContext(connection) as captured:
        try:
            with transaction.atomic():
                statuses.record(e for e in parsed.events if isinstance(e, StatusUpdate))
                for event in parsed.events:
                    router.handle(event)
                raise _Rollback
        except _Rollback:
            pass
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK"))
    ]


def queries_per_event(target: Target, plan: Plan, env: dict[str, str]) -> dict[str, Any]:
    """Queries per kind of webhook, on the finished burst's data: a first tap (a recipient who
    did not vote), a newer tap of a voter, an older one, a forged one, and a status."""
    voted = {t.voter for t in plan.taps}
    fresh = next(i for i in range(target.subscribers) if i not in voted)
    voter = next(t for t in plan.taps if t.counts)
    phone, account = env["WHATSAPP_PHONE_NUMBER_ID"], env["WHATSAPP_BUSINESS_ACCOUNT_ID"]

    def tap_body(i: int, key: str, stamp: int) -> bytes:
        message = {
            "from": number(i),
            "id": f"wamid.Q{secrets.token_hex(8)}",
            "timestamp": str(stamp),
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": f"poll:{target.poll_id}:{key}", "title": "x"},
            },
        }
        return envelope([], phone, account, messages=[message])

    now = int(time.time())
    cases = {
        "first_tap": tap_body(fresh, target.keys[0], now),
        "newer_tap": tap_body(voter.voter, target.keys[1], now + 3600),
        "older_tap": tap_body(voter.voter, target.keys[1], voter.timestamp - 3600),
        "forged_tap": tap_body(fresh, "00000000", now),
        "status": envelope([status(target, fresh, "read", now)], phone, account),
    }
    found = {name: queries_of(body) for name, body in cases.items()}
    return {"count": {k: len(v) for k, v in found.items()}, "first_tap_sql": found["first_tap"]}


def check(target: Target, plan: Plan, last_id_before: int) -> dict[str, Any]:
    from stadtbote.broadcasts.models import Delivery
    from stadtbote.channels.models import InboundWebhook, SendState
    from stadtbote.dialogue.models import ReceivedMessage
    from stadtbote.polls.models import Poll, Vote
    from stadtbote.polls.results import results

    poll = Poll.objects.select_related("post").get(pk=target.poll_id)
    found = results(poll)
    votes, voters = plan.expected()
    states = Counter(Delivery.objects.filter(post_id=poll.post_id).values_list("state", flat=True))
    handled = ReceivedMessage.objects.filter(
        message_id__startswith=f"wamid.V{TAGS[target.kind]}"
    ).count()
    inbound = Counter(
        InboundWebhook.objects.filter(id__gt=last_id_before).values_list("state", flat=True)
    )
    unique_bodies = len(set(plan.requests))
    report = {
        "expected_votes": votes,
        "counted_votes": [o.votes for o in found.options],
        "expected_voters": voters,
        "counted_voters": found.voters,
        "vote_rows": Vote.objects.filter(poll=poll).count(),
        "forged": plan.forged,
        "rejected": found.rejected,
        "late": found.late,
        "reached": found.reached,
        "participation": found.participation,
        "taps_sent": len(plan.taps),
        "taps_handled_once": handled,
        "bodies_unique": unique_bodies,
        "bodies_stored": sum(inbound.values()),
        "webhooks_not_applied": {k: v for k, v in inbound.items() if k != "applied"},
        "deliveries_read": states[SendState.READ],
        "expected_read": plan.reads,
        "deliveries_delivered": states[SendState.DELIVERED],
        "expected_delivered": plan.delivered,
    }
    report["exact"] = (
        votes == report["counted_votes"]
        and voters == found.voters
        and found.rejected == plan.forged
        and found.late == 0
        and handled == len(plan.taps)
        and report["bodies_stored"] == unique_bodies
        and not report["webhooks_not_applied"]
        and states[SendState.READ] == plan.reads
        and states[SendState.DELIVERED] == plan.delivered
    )
    return report


def apply_trouble(app: App) -> dict[str, int]:
    """What the workers logged so far: batches that fell back to one body at a time, and
    bodies marked failed (inbound.apply_pending)."""
    logs = [app.log(f"worker{n}") for n in range(len(app.workers))]
    return {
        "batches_applied_one_by_one": sum(text.count("webhooks together raised") for text in logs),
        "bodies_failed": sum(text.count("could not be applied") for text in logs),
    }


def rate_window(samples: list[tuple[float, int]], seconds: float = 5.0) -> float:
    """The highest rate over any `seconds` window of (time, count) samples."""
    best, j = 0.0, 0
    for i in range(len(samples)):
        while samples[i][0] - samples[j][0] > seconds:
            j += 1
        if samples[i][0] - samples[j][0] >= seconds / 2:
            best = max(best, (samples[i][1] - samples[j][1]) / (samples[i][0] - samples[j][0]))
    return best


def burst(
    app: App, env: dict[str, str], target: Target, args: argparse.Namespace, emulator_pid: int
) -> dict[str, Any]:
    plan = plan_burst(
        target,
        args,
        env["WHATSAPP_APP_SECRET"],
        env["WHATSAPP_PHONE_NUMBER_ID"],
        env["WHATSAPP_BUSINESS_ACCOUNT_ID"],
    )
    log(
        f"{target.kind}: {len(plan.requests)} webhooks over {plan.seconds:.0f} s "
        f"({len(plan.requests) / plan.seconds:.0f}/s): {len(plan.taps)} taps, "
        f"{plan.reads + plan.delivered} statuses, duplicates {plan.duplicates}"
    )
    counter = db_counter(env)
    stored_before = int(counter.scalar("SELECT count(*) FROM channels_inboundwebhook"))
    last_id_before = int(counter.scalar("SELECT COALESCE(max(id), 0) FROM channels_inboundwebhook"))
    deadlocks_sql = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
    deadlocks_before = int(counter.scalar(deadlocks_sql))
    logged_before = apply_trouble(app)
    # Done when nothing is pending; what failed is reported (and fails the check).
    processed_sql = "SELECT count(*) FROM channels_inboundwebhook WHERE state <> 'pending'"
    pending_sql = "SELECT count(*) FROM channels_inboundwebhook WHERE state = 'pending'"
    taps_sql = "SELECT count(*) FROM dialogue_receivedmessage"
    taps_before = int(counter.scalar(taps_sql))
    backlog = Sampler(env, pending_sql, interval=0.5)
    taps = Sampler(env, taps_sql, interval=0.5)
    timer = ResultsTimer(target.poll_id, args.results_every)

    def backends() -> list[int]:
        pids = counter.scalar(
            "SELECT string_agg(pid::text, ',') FROM pg_stat_activity "
            "WHERE datname = current_database()"
        )
        return [int(pid) for pid in (pids or "").split(",") if pid]

    assert app.web is not None
    cpu = CpuAccount(app.web.pid, [p.pid for p in app.workers], backends)
    emulator_before = process_stat(emulator_pid)

    def at_go() -> float:
        for thread in (backlog, taps, timer):
            thread.start()
        cpu.start()
        return time.monotonic()

    load_start = os.getloadavg()[0]
    loaded = load(
        app.port, plan.requests, args.concurrency, args.clients, at_go, offsets=plan.offsets
    )
    spent = cpu.stop()
    emulator_after = process_stat(emulator_pid)
    t0, t_end = loaded["before"], loaded["finished"]
    load_end_of_intake = os.getloadavg()[0]
    backlog_at_end = int(counter.scalar(pending_sql))
    target_applied = stored_before + len(set(plan.requests))
    done_at = wait_applied(
        counter, processed_sql, pending_sql, target_applied, t_end + args.apply_timeout
    )
    for sampler in (backlog, taps):
        sampler.stop()
    timer.stop()
    after = [time_results(target.poll_id) for _ in range(AFTER_SAMPLES)]
    intake = loaded["finished"] - loaded["started"]
    spent["load_generator"] = loaded["cpu_seconds"]
    if emulator_before and emulator_after:
        spent["emulator"] = emulator_after[0] - emulator_before[0]
    spent["other"] = spent["machine"] - sum(v for k, v in spent.items() if k != "machine")
    during = [s for t, s in timer.samples if t <= t_end]
    catching_up = [s for t, s in timer.samples if t > t_end]
    tap_samples = [(t, c - taps_before) for t, c in taps.samples]
    first_tap = next((t for t, c in tap_samples if c > 0), None)
    total_taps = len(plan.taps)
    last_tap = next((t for t, c in tap_samples if c >= total_taps), done_at)
    checked = check(target, plan, last_id_before)
    logged = apply_trouble(app)
    trouble = {
        # pg_stat_database is updated by the statistics collector: it may trail a little.
        "deadlocks": int(counter.scalar(deadlocks_sql)) - deadlocks_before,
        **{k: logged[k] - logged_before[k] for k in logged},
    }
    queries = queries_per_event(target, plan, env)
    counter.close()
    result = {
        "kind": target.kind,
        "webhooks": len(plan.requests),
        "taps": total_taps,
        "statuses": plan.reads + plan.delivered,
        "duplicates": plan.duplicates,
        "planned_seconds": plan.seconds,
        "planned_per_second": len(plan.requests) / plan.seconds,
        "intake": {
            "seconds": intake,
            "http": {str(k): v for k, v in loaded["codes"].items()},
            "requests_per_second": len(loaded["latencies"]) / intake,
            "latency_ms": latency_ms(loaded["latencies"]),
        },
        "apply": {
            "backlog_max": max((c for _, c in backlog.samples), default=None),
            "backlog_when_last_post_answered": backlog_at_end,
            "lag_after_last_post_seconds": None if done_at is None else max(0.0, done_at - t_end),
            "all_applied_after_seconds": None if done_at is None else done_at - t0,
            "taps_per_second": None
            if first_tap is None or last_tap is None or last_tap <= t0
            else total_taps / (last_tap - t0),
            "taps_per_second_best_5s": rate_window(tap_samples),
            "webhooks_per_second": None
            if done_at is None
            else len(set(plan.requests)) / (done_at - t0),
            "reply_jobs_queued_at_end": queue_length(env),
            **trouble,
        },
        "results_ms": {
            "during_intake": ms(during),
            "after_intake_until_applied": ms(catching_up),
            "after_all_applied": ms(after),
        },
        "cores": {k: v / intake for k, v in spent.items()},
        "load_average_1min": {"start": load_start, "end_of_intake": load_end_of_intake},
        "queries": queries,
        "check": checked,
    }
    log(
        f"{target.kind}: intake {result['intake']['requests_per_second']:.0f}/s, "
        f"p95 {result['intake']['latency_ms']['p95']:.1f} ms; lag "
        f"{result['apply']['lag_after_last_post_seconds']} s; results() during median "
        f"{result['results_ms']['during_intake']['median']:.1f} ms; exact {checked['exact']}"
    )
    return result


def answers(url: str) -> bool:
    with contextlib.suppress(OSError):
        return request("GET", url, timeout=2)[0] == 200
    return False


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    started = machine()
    with contextlib.ExitStack() as cleanup:
        data = cleanup.enter_context(scratch_dir("polls"))
        emulator_port = free_port()
        env = base_env(
            data,
            emulator_port=emulator_port,
            STADTBOTE_WORKER_THREADS=str(args.threads),
            DATABASE_URL=cleanup.enter_context(fresh_postgres("polls")),
            REDIS_URL=cleanup.enter_context(redis_flushed(REDIS_URL)),
        )
        setup_django(env)
        t = time.perf_counter()
        ids = create_subscribers(args.subscribers)
        if ids != list(range(ids[0], ids[0] + len(ids))):
            raise RuntimeError("subscriber ids are not consecutive")
        targets = []
        for kind in kinds:
            poll_id, keys, prefix = sent_poll(kind, ids[0], args.subscribers)
            targets.append((kind, poll_id, keys, prefix))
        late = max(1, args.forged)
        create_subscribers(late, offset=args.subscribers)
        analyze()
        from django.db import connection

        connection.close()  # the threads and the app use their own
        log(
            f"seeded {args.subscribers} subscribers, {len(kinds)} polls in {time.perf_counter() - t:.0f} s"
        )
        app = App(env, free_port())
        if args.keep_logs:
            cleanup.callback(
                shutil.copytree,
                data,
                args.keep_logs,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("*.sqlite3*"),
            )
        cleanup.callback(app.stop)
        emulator = app._popen("emulator", "emulator", "--port", str(emulator_port))
        cleanup.callback(lambda: (emulator.terminate(), emulator.wait(timeout=15)))
        app.start(args.web_processes, args.workers)
        health = f"http://127.0.0.1:{emulator_port}/_emulator/health"
        if wait_for(lambda: answers(health), 60) is None:
            raise RuntimeError("the emulator did not start")
        if wait_for(lambda: queue_length(env) == 0, 60) is None:
            raise RuntimeError("the dispatch jobs of the set-up were not taken")
        runs = []
        try:
            for kind, poll_id, keys, prefix in targets:
                target = Target(kind, poll_id, keys, prefix, args.subscribers, late)
                runs.append(burst(app, env, target, args, emulator.pid))
                # A long run stopped during the next kind keeps this one's figures.
                log(f"{kind} done: {json.dumps(rounded(runs[-1]))}")
        except Exception:
            sys.stderr.write(app.logs())
            raise
    emit(
        {
            "benchmark": "polls",
            "what": "a poll burst: signed vote and status webhooks at a planned rate, "
            "counted exactly; live results' server time",
            "machine": started,
            "load_average_1_5_15_at_end": [round(x, 2) for x in os.getloadavg()],
            "processes": f"stadtbote run --no-worker --web-processes {args.web_processes} + "
            f"{args.workers} x stadtbote worker ({args.threads} threads) + emulator",
            "subscribers": args.subscribers,
            "voters": args.voters,
            "rate": args.rate,
            "concurrency": args.concurrency,
            "client_processes": args.clients,
            "runs": runs,
            "all_exact": all(r["check"]["exact"] for r in runs),
        }
    )
    return 0 if all(r["check"]["exact"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
