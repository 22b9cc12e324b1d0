"""A poll's live results in the newsroom: the numbers, a chart with a table of the same
numbers, by district; the fragment the page refreshes itself with; the CSV; closing the poll
and publishing its results, only for those who may change posts. Counts only: nobody's vote."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import actions as posts
from stadtbote.broadcasts import tasks as sending
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.models import SendState
from stadtbote.channels.sending import SendLoop
from stadtbote.polls import actions, voting
from stadtbote.polls.models import Poll, Vote
from stadtbote.subscribers.models import District
from tests.helpers import ALICE, BOB, active_subscriber, staff_with_roles

pytestmark = pytest.mark.django_db

CAROL = "491705550000"


@pytest.fixture(autouse=True)
def network(monkeypatch):
    monkeypatch.setattr(
        SendLoop, "send_many", lambda self, items: [f"wamid.R{i}" for i, _ in enumerate(items)]
    )
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def people(django_user_model):
    return staff_with_roles(
        django_user_model,
        erika=Role.EDITOR,
        paula=Role.APPROVER,
        vera=Role.VIEWER,
        gerd=Role.AGENT,
        ida=Role.ADMINISTRATOR,
        dora=Role.DATA_PROTECTION_OFFICER,
    )


def sent_poll(people, answers=("Ja", "Nein", "Egal"), **fields) -> Poll:
    poll = actions.create_poll(
        people["erika"], title="Radweg an der Itz", question="Soll der Radweg kommen?",
        answers=answers, **fields,
    )  # fmt: skip
    posts.submit(poll.post, people["erika"])
    posts.approve(poll.post, people["paula"])
    while sending.dispatch_once():
        pass
    return Poll.objects.select_related("post").get(pk=poll.pk)


def vote(poll: Poll, subscriber, position: int) -> None:
    option = poll.options.get(position=position)
    voting.on_tap(subscriber, f"poll:{poll.pk}:{option.key}", timezone.now())


@pytest.fixture
def counted(people):
    """Three reached, three voted: Ja, Ja, Nein; one forged tap."""
    north = District.objects.create(name="Nord", slug="nord", position=1)
    south = District.objects.create(name="Süd", slug="sued", position=2)
    alice, bob, carol = (active_subscriber(n) for n in (ALICE, BOB, CAROL))
    alice.districts.add(north)
    bob.districts.add(north)
    carol.districts.add(south)
    poll = sent_poll(people, districts=["nord", "sued"])
    vote(poll, alice, 0)
    vote(poll, bob, 0)
    vote(poll, carol, 1)
    voting.on_tap(alice, f"poll:{poll.pk}:ffffffff", timezone.now())
    return poll


def url(poll: Poll, rest: str = "") -> str:
    return f"/redaktion/{poll.post_id}/ergebnisse/{rest}"


def test_every_role_that_reads_posts_sees_the_results(as_, people, counted):
    for name in people:
        client = as_(people[name])
        assert client.get(url(counted)).status_code == 200, name
        assert client.get(url(counted, "live/")).status_code == 200, name
        assert client.get(f"/redaktion/{counted.post_id}/ergebnisse.csv").status_code == 200


def test_the_results_page_shows_counts_shares_participation_and_refused_taps(as_, people, counted):
    page = as_(people["vera"]).get(url(counted)).content.decode()
    table = page[page.index("<caption>Stimmen je Antwort") :]
    assert '<th scope="row">Ja</th><td>2</td><td>66,7\u00a0%</td>' in table
    assert '<th scope="row">Nein</th><td>1</td><td>33,3\u00a0%</td>' in table
    assert '<th scope="row">Egal</th><td>0</td><td>0\u00a0%</td>' in table
    assert "<dt>Abstimmende</dt><dd>3</dd>" in page
    assert "<dt>Erreicht</dt><dd>3</dd>" in page
    assert "<dt>Beteiligung</dt><dd>100\u00a0%</dd>" in page
    assert "<dt>Abgewiesene Antippen</dt><dd>1</dd>" in page
    assert "<dt>Antippen nach dem Ende</dt><dd>0</dd>" in page
    assert "Offen, bis sie von Hand beendet wird." in page


def test_the_chart_is_an_image_with_a_title_and_a_summary(as_, people, counted):
    page = as_(people["vera"]).get(url(counted)).content.decode()
    assert '<svg class="chart" role="img"' in page
    assert ">Stimmen je Antwort</title>" in page
    assert "Die meisten Stimmen: Ja mit 2 von 3 Abstimmenden (66,7\u00a0%).</desc>" in page


def test_results_by_district_when_the_poll_went_to_districts(as_, people, counted):
    page = as_(people["vera"]).get(url(counted)).content.decode()
    districts = page[page.index("<caption>Stimmen nach Stadtteil") :]
    assert (
        '<th scope="row">Nord</th><td>2</td><td>2 (100\u00a0%)</td><td>0 (0\u00a0%)</td>'
        in districts
    )
    assert (
        '<th scope="row">Süd</th><td>1</td><td>0 (0\u00a0%)</td><td>1 (100\u00a0%)</td>'
        in districts
    )


def test_a_poll_to_the_whole_city_has_no_district_table_and_no_votes_say_so(as_, people):
    active_subscriber(ALICE)
    poll = sent_poll(people)
    page = as_(people["vera"]).get(url(poll)).content.decode()
    assert "Stimmen nach Stadtteil" not in page
    assert "Noch keine Stimmen." in page
    assert "<dt>Beteiligung</dt><dd>0\u00a0%</dd>" in page


def test_in_english_shares_are_written_the_english_way(as_, people, counted):
    client = as_(people["vera"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get(url(counted)).content.decode()
    assert '<th scope="row">Ja</th><td>2</td><td>66.7%</td>' in page


def test_nobody_is_named_on_the_results_pages(as_, people, counted):
    client = as_(people["paula"])
    pages = [
        client.get(url(counted)).content.decode(),
        client.get(url(counted, "live/")).content.decode(),
        client.get(f"/redaktion/{counted.post_id}/ergebnisse.csv").content.decode(),
    ]
    ids = [str(pk) for pk in Vote.objects.values_list("subscriber_id", flat=True)]
    for content in pages:
        for number in (ALICE, BOB, CAROL, ALICE[2:], "+49"):
            assert number not in content
        assert "subscriber" not in content.lower()
    assert ids  # the votes exist; the pages show only their counts


def test_the_page_refreshes_itself_with_a_same_origin_script_and_a_polite_live_region(
    as_, people, counted
):
    page = as_(people["vera"]).get(url(counted)).content.decode()
    assert '<script src="/static/newsroom/live_results.js" defer></script>' in page
    assert "<script>" not in page and "<script " not in page.replace(
        '<script src="/static/newsroom/live_results.js" defer>', ""
    )
    assert f'aria-live="polite" data-live-url="{url(counted, "live/")}"' in page


def test_the_live_fragment_is_the_changing_part_only_and_follows_new_votes(as_, people, counted):
    client = as_(people["vera"])
    first = client.get(url(counted, "live/"))
    assert first["Cache-Control"] == "no-store"
    html = first.content.decode()
    assert "<html" not in html and "<form" not in html
    assert 'data-open="true"' in html and "<dt>Abstimmende</dt><dd>3</dd>" in html
    dave = active_subscriber("491701111111")
    Delivery.objects.create(post=counted.post, subscriber=dave, state=SendState.DELIVERED)
    vote(counted, dave, 2)
    html = client.get(url(counted, "live/")).content.decode()
    assert "<dt>Abstimmende</dt><dd>4</dd>" in html
    assert '<th scope="row">Egal</th><td>1</td><td>25\u00a0%</td>' in html


def test_the_csv_is_an_attachment_named_after_the_title(as_, people, counted):
    response = as_(people["vera"]).get(f"/redaktion/{counted.post_id}/ergebnisse.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="umfrage-{counted.post_id}-radweg-an-der-itz.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["poll", "district", "answer", "votes", "share_of_voters"]
    assert ["Radweg an der Itz", "", "Ja", "2", "0.6667"] in rows
    assert ["Radweg an der Itz", "Süd", "Nein", "1", "1.0000"] in rows
    assert ["Radweg an der Itz", "", "(voters)", "3", ""] in rows


def test_pages_of_a_post_that_is_no_poll_are_not_found(as_, people):
    post = posts.create_post(people["erika"], title="Fest", text="x")
    client = as_(people["erika"])
    for path in ("", "live/"):
        assert client.get(f"/redaktion/{post.pk}/ergebnisse/{path}").status_code == 404
    assert client.get(f"/redaktion/{post.pk}/ergebnisse.csv").status_code == 404
    assert client.post(f"/redaktion/{post.pk}/ergebnisse/schliessen/").status_code == 404
    assert client.get("/redaktion/99999/ergebnisse/").status_code == 404


def test_an_editor_closes_the_poll_once(as_, people, counted):
    client = as_(people["erika"])
    page = client.get(url(counted)).content.decode()
    assert "Jetzt beenden" in page
    response = client.post(url(counted, "schliessen/"), follow=True)
    counted.refresh_from_db()
    assert counted.closed_at is not None
    html = response.content.decode()
    assert "Beendet seit" in html and "Jetzt beenden" not in html
    assert 'data-open="false"' in html
    assert 'src="/static/newsroom/live_results.js"' not in html  # nothing changes any more
    client.post(url(counted, "schliessen/"))
    assert AuditEntry.objects.filter(action="poll.closed").count() == 1


def test_a_poll_not_sent_yet_is_not_closed(as_, people):
    poll = actions.create_poll(people["erika"], title="T", question="Q?", answers=["Ja", "Nein"])
    as_(people["erika"]).post(url(poll, "schliessen/"))
    poll.refresh_from_db()
    assert poll.closed_at is None


def test_closing_and_publishing_are_refused_to_who_may_not_change_posts(as_, people, counted):
    for name in ("vera", "gerd", "ida", "dora"):
        client = as_(people[name])
        page = client.get(url(counted)).content.decode()
        assert "Jetzt beenden" not in page and 'name="intro"' not in page, name
        assert client.post(url(counted, "schliessen/")).status_code == 403
        assert client.get(url(counted, "schliessen/")).status_code in (403, 405)
        published = client.post(url(counted, "veroeffentlichen/"), {"title": "Ergebnis"})
        assert published.status_code == 403
    counted.refresh_from_db()
    assert counted.closed_at is None and counted.results_post is None
    assert Post.objects.count() == 1
    assert not AuditEntry.objects.filter(action__in=["poll.closed", "poll.results_published"])


def test_publishing_the_results_makes_a_draft_post_and_twice_is_refused(as_, people, counted):
    client = as_(people["erika"])
    response = client.post(
        url(counted, "veroeffentlichen/"),
        {"title": "So hat Coburg abgestimmt", "intro": "Danke fürs Mitmachen!"},
    )
    counted.refresh_from_db()
    result = counted.results_post
    assert response.status_code == 302 and response.url == f"/redaktion/{result.pk}/"
    assert (result.title, result.status, result.author) == (
        "So hat Coburg abgestimmt", "draft", people["erika"],
    )  # fmt: skip
    assert result.text.startswith("Danke fürs Mitmachen!\n\nSoll der Radweg kommen?")
    assert "Ja: ▓▓▓▓▓▓▓░░░ 67 % (2)" in result.text
    assert [d.slug for d in result.districts.all()] == ["nord", "sued"]
    again = client.post(url(counted, "veroeffentlichen/"), {"title": "Nochmal"}, follow=True)
    assert "Die Ergebnisse dieser Umfrage sind schon veröffentlicht." in again.content.decode()
    assert Post.objects.count() == 2
    assert AuditEntry.objects.filter(action="poll.results_published").count() == 1
    page = client.get(url(counted)).content.decode()
    assert f'href="/redaktion/{result.pk}/"' in page and 'name="intro"' not in page
    post_page = client.get(f"/redaktion/{result.pk}/").content.decode()
    assert f'href="{url(counted)}"' in post_page  # the results post leads back


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": ""}, "Geben Sie dem Ergebnis-Beitrag einen Titel."),
        ({"title": "   "}, "Geben Sie dem Ergebnis-Beitrag einen Titel."),
        ({}, "Geben Sie dem Ergebnis-Beitrag einen Titel."),
        ({"title": "T", "intro": "x" * 5000}, None),  # cut to 1,000 characters
    ],
)
def test_a_results_post_needs_a_title(as_, people, counted, data, message):
    response = as_(people["erika"]).post(url(counted, "veroeffentlichen/"), data, follow=True)
    counted.refresh_from_db()
    if message is None:
        assert len(counted.results_post.text) < 4096
        return
    assert message in response.content.decode()
    assert counted.results_post is None and Post.objects.count() == 1


def test_results_of_a_poll_not_sent_cannot_be_published(as_, people):
    poll = actions.create_poll(people["erika"], title="T", question="Q?", answers=["Ja", "Nein"])
    response = as_(people["erika"]).post(
        url(poll, "veroeffentlichen/"), {"title": "Ergebnis"}, follow=True
    )
    assert "sobald die Umfrage verschickt ist" in response.content.decode()
    poll.refresh_from_db()
    assert poll.results_post is None


def test_a_closing_time_is_shown_while_open_and_after(as_, people):
    active_subscriber(ALICE)
    poll = sent_poll(people, closes_at=timezone.now() + timedelta(days=2))
    page = as_(people["vera"]).get(url(poll)).content.decode()
    assert "Offen bis" in page
    Poll.objects.filter(pk=poll.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    page = as_(people["vera"]).get(url(poll)).content.decode()
    assert "Beendet seit" in page and "Jetzt beenden" not in page


@pytest.mark.parametrize(
    "path", ["/ergebnisse/", "/ergebnisse.csv", "/ergebnisse/live/", "/umfrage/", "/bearbeiten/"]
)
def test_an_id_beyond_the_integer_range_is_not_found(as_, people, path):
    assert as_(people["erika"]).get(f"/redaktion/{2**70}{path}").status_code == 404
