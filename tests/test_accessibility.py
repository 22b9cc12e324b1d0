"""Accessibility (WCAG 2.1 AA, which BITV 2.0 requires of German public bodies): axe-core runs
inside each page in Chromium and finds no serious or critical violation; the pages work with
the keyboard alone."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.utils import timezone

from stadtbote.accounts import roles
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Post
from stadtbote.subscribers.models import District, Topic
from tests.conftest import STRICT

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "ein recht langes Passwort"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module", autouse=True)
def _database_beside_playwright():
    # Playwright's sync API keeps an event loop marked running in this thread; Django then
    # refuses database calls here as if they came from async code. They do not: the loop is
    # idle while the test talks to the database (Django's documentation names this case).
    # Module-wide, so that the flush after each test is allowed too.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def axe_page(browser):
    if not AXE.exists():
        message = f"axe-core is not installed at {AXE} (scripts/ensure-node-tools)"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)
    # The pages forbid scripts from anywhere but themselves; the checker is let in.
    context = browser.new_context(locale="de-DE", bypass_csp=True)
    yield context.new_page()
    context.close()


# Every page checked is also kept as a screenshot, for people to look at after a run.
SCREENSHOTS = (
    Path(os.environ.get("STADTBOTE_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / "var"))
    / "screenshots"
)


def _screenshot(page) -> None:
    url = urlparse(page.url)
    name = re.sub(r"[^a-z0-9]+", "-", url.path.lower()).strip("-") or "start"
    if "lang=en" in url.query:
        name += "-en"  # the English page beside the German one
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def serious_violations(page) -> list[str]:
    if page.url.startswith("http"):
        _screenshot(page)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
               values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def published(django_user_model):
    editor = django_user_model.objects.create(username="erika")
    topic = Topic.objects.create(name="Baustellen", slug="baustellen")
    for n, urgent in enumerate([True, False, False]):
        post = actions.create_post(
            editor,
            title=f"Sperrung {n}",
            text="Die *Hauptstraße* ist gesperrt.\n> Umleitung über die Ringstraße\n- Bus 3",
            urgent=urgent,
            link="https://stadt.example/bau",
        )
        post.topics.set([topic])
        Post.objects.filter(pk=post.pk).update(
            status=Post.Status.SENT, send_started_at=timezone.now() - timedelta(hours=n + 1)
        )
    return Post.objects.order_by("-send_started_at").first()


@pytest.mark.parametrize(
    "path",
    [
        "/archiv/",
        "/archiv/thema/baustellen/",
        "/archiv/?q=nichts",
        "{post}",
        "/widget/",
        "/anmelden/",
        "/datenschutz/",
        "/staff/login/",
        # The same pages in English, with the language switch in use.
        "/archiv/?lang=en",
        "/anmelden/?lang=en",
        "/widget/?lang=en",
    ],
)
def test_public_pages_and_the_login_have_no_serious_violations(
    live_server, axe_page, published, path
):
    path = path.replace("{post}", f"/archiv/{published.pk}/")
    response = axe_page.goto(f"{live_server.url}{path}")
    assert response is not None and response.ok
    assert serious_violations(axe_page) == []


def test_the_second_factor_pages_have_no_serious_violations(
    live_server, axe_page, django_user_model
):
    user = django_user_model.objects.create_user("paula", password=PASSWORD)
    roles.assign(user, Role.APPROVER)
    axe_page.goto(f"{live_server.url}/staff/login/")
    axe_page.fill("#id_username", "paula")
    axe_page.fill("#id_password", PASSWORD)
    axe_page.keyboard.press("Enter")  # the keyboard alone logs in
    axe_page.wait_for_url("**/staff/second-factor/**")
    assert serious_violations(axe_page) == []
    axe_page.fill("#id_code", "000000")
    axe_page.keyboard.press("Enter")
    axe_page.wait_for_selector("[role=alert]")
    assert serious_violations(axe_page) == []


def test_the_login_form_is_reached_and_sent_with_the_keyboard(live_server, axe_page):
    axe_page.goto(f"{live_server.url}/staff/login/")
    focused = []
    for _ in range(6):
        axe_page.keyboard.press("Tab")
        focused.append(
            axe_page.evaluate("document.activeElement.id || document.activeElement.tagName")
        )
    assert "id_username" in focused and "id_password" in focused
    assert focused.index("id_username") < focused.index("id_password")


def test_the_check_finds_what_it_should(axe_page):
    # Guards the guard: a page with an unlabelled field and an image without text fails.
    axe_page.set_content('<html lang="de"><body><img src="x.png"><input></body></html>')
    found = " ".join(serious_violations(axe_page))
    assert "image-alt" in found and "label" in found


def test_the_newsroom_pages_have_no_serious_violations_and_preview_live(
    live_server, axe_page, published, django_user_model
):
    user = django_user_model.objects.create_user("emma", password=PASSWORD)
    roles.assign(user, Role.EDITOR)
    axe_page.goto(f"{live_server.url}/redaktion/")
    axe_page.fill("#id_username", "emma")
    axe_page.fill("#id_password", PASSWORD)
    axe_page.keyboard.press("Enter")
    axe_page.wait_for_url(lambda url: urlparse(url).path == "/redaktion/")
    for path in ["/redaktion/", "/redaktion/kalender/", f"/redaktion/{published.pk}/"]:
        axe_page.goto(f"{live_server.url}{path}")
        assert serious_violations(axe_page) == [], path
    axe_page.goto(f"{live_server.url}/redaktion/neu/")
    assert serious_violations(axe_page) == []
    # The preview follows the typing, without saving anything.
    axe_page.fill("#id_title", "Stadtfest")
    axe_page.fill("#id_text", "Am *Samstag* ist Fest.")
    axe_page.wait_for_function(
        "document.querySelector('[data-preview=html]').innerHTML.includes('<strong>Samstag</strong>')"
    )
    assert Post.objects.filter(title="Stadtfest").count() == 0
    axe_page.click("button[type=submit].primary")
    axe_page.wait_for_url(lambda url: re.fullmatch(r"/redaktion/\d+/", urlparse(url).path))
    assert Post.objects.filter(title="Stadtfest").count() == 1


def _log_in_with_second_factor(page, base_url, user) -> None:
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)
    page.goto(f"{base_url}/staff/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/code/**")
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.fill("#id_code", f"{code:06d}")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/staff/" not in urlparse(url).path)


def test_the_settings_pages_have_no_serious_violations(live_server, axe_page, django_user_model):
    topic = Topic.objects.create(name="Baustellen", slug="baustellen")
    user = django_user_model.objects.create_user("ida", password=PASSWORD)
    roles.assign(user, Role.ADMINISTRATOR)
    _log_in_with_second_factor(axe_page, live_server.url, user)
    base = "/redaktion/einstellungen/"
    for area in [
        "",
        "versand/",
        "themen/",
        f"themen/{topic.pk}/",
        "stadtteile/",
        "preise/",
        "vorlagen/",
        "datenschutz/",
        "archiv/",
    ]:
        response = axe_page.goto(f"{live_server.url}{base}{area}")
        assert response is not None and response.ok, area
        assert serious_violations(axe_page) == [], area
    # A refused form shows its errors accessibly too; sent with the keyboard alone.
    axe_page.goto(f"{live_server.url}{base}versand/")
    axe_page.fill("#id_quiet_hours_start", "25 Uhr")
    axe_page.focus("#id_budget_blocks")
    axe_page.keyboard.press("Tab")
    axe_page.keyboard.press("Enter")
    axe_page.wait_for_selector("[role=alert]")


def test_the_inbox_settings_pages_have_no_serious_violations(
    live_server, axe_page, django_user_model
):
    from stadtbote.inbox.models import CannedReply, Category, Department

    # Created here: the seeded ones are gone after the first test of a real transaction.
    department = Department.objects.create(name="Tiefbauamt (Test)")
    category = Category.objects.create(
        name="Beleuchtung (Test)", service_code="beleuchtung-test", department=department
    )
    reply = CannedReply.objects.create(title="Danke", text="Danke für Ihre Meldung.")
    user = django_user_model.objects.create_user("ida", password=PASSWORD)
    roles.assign(user, Role.ADMINISTRATOR)
    _log_in_with_second_factor(axe_page, live_server.url, user)
    base = "/redaktion/einstellungen/"
    for area in [
        "abteilungen/",
        f"abteilungen/{department.pk}/",
        "kategorien/",
        f"kategorien/{category.pk}/",
        "textbausteine/",
        f"textbausteine/{reply.pk}/",
        "sprechzeiten/",
    ]:
        response = axe_page.goto(f"{live_server.url}{base}{area}")
        assert response is not None and response.ok, area
        assert serious_violations(axe_page) == [], area
    # Refused forms show their errors accessibly too: the weekly table, in its row, and a
    # closed day, at its field.
    axe_page.goto(f"{live_server.url}{base}sprechzeiten/")
    axe_page.fill("#id_d0_opens1", "12:00")
    axe_page.fill("#id_d0_closes1", "08:00")
    axe_page.focus("#id_d0_opens1")
    axe_page.keyboard.press("Enter")  # the keyboard alone sends the form
    axe_page.wait_for_selector("tbody [role=alert]")
    assert serious_violations(axe_page) == []
    axe_page.fill("#id_closed-date", "morgen")
    axe_page.click("form:has(#id_closed-date) button[type=submit]")
    axe_page.wait_for_selector("#id_closed-date ~ [role=alert]")
    assert serious_violations(axe_page) == []


def test_the_statistics_of_concerns_have_no_serious_violations(
    live_server, axe_page, django_user_model
):
    from stadtbote.inbox import actions as inbox
    from stadtbote.inbox.models import Category

    District.objects.create(name="Nord", slug="nord")
    user = django_user_model.objects.create_user("gerd", password=PASSWORD)
    roles.assign(user, Role.AGENT)
    axe_page.goto(f"{live_server.url}/posteingang/statistik/")
    axe_page.fill("#id_username", "gerd")
    axe_page.fill("#id_password", PASSWORD)
    axe_page.keyboard.press("Enter")
    axe_page.wait_for_url(lambda url: urlparse(url).path == "/posteingang/statistik/")
    assert serious_violations(axe_page) == []  # nothing yet
    for n in range(3):
        category = Category.objects.create(name=f"Kategorie {n}", service_code=f"k-{n}")
        inbox.create_concern(category=category, description="x")
    axe_page.goto(f"{live_server.url}/posteingang/statistik/?tage=7")
    assert axe_page.locator("svg.chart[role=img]").count() == 4
    assert axe_page.locator("svg.chart rect").count() >= 3  # bars drawn
    axe_page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert serious_violations(axe_page) == []


def test_the_figures_page_has_no_serious_violations_empty_and_counted(
    live_server, axe_page, published, django_user_model
):
    from stadtbote.dashboards import rollup

    user = django_user_model.objects.create_user("vera", password=PASSWORD)
    roles.assign(user, Role.VIEWER)
    axe_page.goto(f"{live_server.url}/redaktion/zahlen/")
    axe_page.fill("#id_username", "vera")
    axe_page.fill("#id_password", PASSWORD)
    axe_page.keyboard.press("Enter")
    axe_page.wait_for_url(lambda url: urlparse(url).path == "/redaktion/zahlen/")
    assert serious_violations(axe_page) == []  # the empty state
    rollup.refresh(timezone.now())
    axe_page.goto(f"{live_server.url}/redaktion/zahlen/")
    assert axe_page.locator("svg.chart[role=img]").count() >= 4  # no districts here
    # The tables behind the charts are checked too, opened.
    axe_page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert serious_violations(axe_page) == []


def test_the_poll_form_and_the_results_page_have_no_serious_violations(
    live_server, axe_page, django_user_model
):
    from stadtbote.polls import actions as polls
    from stadtbote.polls.models import IgnoredTap, Poll

    District.objects.create(name="Nord", slug="nord")
    user = django_user_model.objects.create_user("emil", password=PASSWORD)
    roles.assign(user, Role.EDITOR)
    axe_page.goto(f"{live_server.url}/redaktion/umfrage/neu/")
    axe_page.fill("#id_username", "emil")
    axe_page.fill("#id_password", PASSWORD)
    axe_page.keyboard.press("Enter")
    axe_page.wait_for_url(lambda url: urlparse(url).path == "/redaktion/umfrage/neu/")
    assert serious_violations(axe_page) == []
    # A refused poll shows its errors accessibly too.
    axe_page.fill("#id_title", "Radweg")
    axe_page.fill("#id_text", "Soll der Radweg kommen?")
    axe_page.fill("#id_answer_1", "Ja")
    axe_page.click("button[type=submit].primary")
    axe_page.wait_for_selector("[role=alert]")
    assert serious_violations(axe_page) == []
    axe_page.fill("#id_answer_2", "Nein")
    axe_page.fill("#id_answer_3", "Weiß nicht")
    axe_page.click("button[type=submit].primary")
    axe_page.wait_for_url(lambda url: re.fullmatch(r"/redaktion/\d+/", urlparse(url).path))
    assert serious_violations(axe_page) == []  # the post page with the poll's preview
    poll = Poll.objects.select_related("post").get()
    Post.objects.filter(pk=poll.post_id).update(
        status=Post.Status.SENT, send_started_at=timezone.now()
    )
    axe_page.goto(f"{live_server.url}/redaktion/{poll.post_id}/ergebnisse/")
    assert axe_page.locator("svg.chart[role=img]").count() == 1
    assert serious_violations(axe_page) == []
    # The page asks for fresh numbers by itself: a vote cast meanwhile appears without a reload.
    IgnoredTap.objects.bulk_create(
        IgnoredTap(poll=poll, kind=IgnoredTap.Kind.REJECTED) for _ in range(7)
    )
    axe_page.wait_for_function(
        "document.querySelector('#live').textContent.includes('7')", timeout=15000
    )
    assert polls.results_public(poll) is False


def test_the_archive_post_with_reactions_shown_has_no_serious_violations(
    live_server, axe_page, published, django_user_model
):
    from stadtbote.dashboards.models import PostFigures
    from stadtbote.public import archive, archive_settings

    ida = django_user_model.objects.create(username="ida")
    archive_settings.change(ida, show_reactions=True)
    PostFigures.objects.create(
        post=published, reactions={"👍": 12, "❤️": 3}, refreshed_at=timezone.now()
    )
    path = f"/archiv/{published.pk}-{archive.slug(published)}/"
    response = axe_page.goto(f"{live_server.url}{path}")
    assert response is not None and response.ok
    assert axe_page.locator("ul.reactions li").count() == 2
    assert serious_violations(axe_page) == []


def test_the_inbox_pages_have_no_serious_violations(live_server, axe_page, django_user_model):
    from django.test import override_settings

    from stadtbote.inbox import work
    from stadtbote.inbox.models import CannedReply
    from tests.inbox_pages import (
        chat_concern,
        citizen,
        open311_concern,
        sends_place,
        stored_photo,
        writes,
    )

    user = django_user_model.objects.create_user("gerd", password=PASSWORD)
    roles.assign(user, Role.AGENT)
    conversation = writes(citizen(), "Vor dem Rathaus ist ein Schlagloch.").conversation
    photo = stored_photo(conversation, caption="Das Loch")
    place = sends_place(conversation.subscriber, 50.8098, 8.7707)
    concern = chat_concern(
        conversation, photo=photo, latitude=place.latitude, longitude=place.longitude
    )
    work.note(conversation, "Bauhof informiert", by=user)
    work.answer(conversation, "Danke, wir kümmern uns.", by=user)
    CannedReply.objects.create(title="Danke", text="Danke für Ihre Meldung.")
    other = open311_concern()
    with override_settings(CITY_BOUNDS="50.78,8.72,50.84,8.81"):
        axe_page.goto(f"{live_server.url}/posteingang/")
        axe_page.fill("#id_username", "gerd")
        axe_page.fill("#id_password", PASSWORD)
        axe_page.keyboard.press("Enter")
        axe_page.wait_for_url(lambda url: urlparse(url).path == "/posteingang/")
        for path in [
            "/posteingang/",
            "/posteingang/?status=unsinn&q=Schlagloch",  # a filter reported as not understood
            f"/posteingang/{conversation.pk}/",
            "/posteingang/meldungen/",
            f"/posteingang/meldungen/{concern.reference}/",
            f"/posteingang/meldungen/{other.reference}/",
        ]:
            response = axe_page.goto(f"{live_server.url}{path}")
            assert response is not None and response.ok, path
            assert serious_violations(axe_page) == [], path
        # A refused answer shows its error accessibly too.
        axe_page.goto(f"{live_server.url}/posteingang/{conversation.pk}/")
        axe_page.fill("#id_text", "   ")
        axe_page.click("form[action$='/antworten/'] button[type=submit]")
        axe_page.wait_for_selector("[role=alert]")
        assert serious_violations(axe_page) == []
