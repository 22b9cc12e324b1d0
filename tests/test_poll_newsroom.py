"""Polls in the newsroom: writing and changing a draft poll with its answers, closing time,
audience and template; the poll's preview on its post page; who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import actions as posts
from stadtbote.broadcasts.models import Post, Template
from stadtbote.polls import actions
from stadtbote.polls.models import Poll
from stadtbote.subscribers.models import District, Topic
from tests.helpers import staff_with_roles

pytestmark = pytest.mark.django_db

NEW = "/redaktion/umfrage/neu/"


@pytest.fixture
def people(django_user_model):
    return staff_with_roles(
        django_user_model,
        erika=Role.EDITOR,
        emil=Role.EDITOR,
        paula=Role.APPROVER,
        vera=Role.VIEWER,
        gerd=Role.AGENT,
        ida=Role.ADMINISTRATOR,
        dora=Role.DATA_PROTECTION_OFFICER,
    )


def form(**changes: str) -> dict[str, str]:
    data = {
        "title": "Radweg",
        "text": "Soll der Radweg an der Itz kommen?",
        "answer_1": "Ja",
        "answer_2": "Nein",
        "closes_at": "",
        "language": "",
        "template": "",
        "publish_at": "",
        "on_website": "on",
    }
    for n in range(3, 11):
        data[f"answer_{n}"] = ""
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def later(hours: int = 24) -> str:
    return timezone.localtime(timezone.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def test_the_form_offers_ten_answer_fields_and_no_script(as_, people):
    page = as_(people["erika"]).get(NEW).content.decode()
    for n in range(1, 11):
        assert f'name="answer_{n}"' in page
    assert 'name="answer_11"' not in page
    assert "<script" not in page.split("<main")[1]
    assert 'type="datetime-local"' in page


def test_an_editor_writes_a_poll_and_blank_answers_are_left_out(as_, people):
    Topic.objects.create(name="Verkehr", slug="verkehr")
    District.objects.create(name="Nord", slug="nord")
    client = as_(people["erika"])
    response = client.post(
        NEW,
        form(
            answer_2="",
            answer_3="Nein",
            answer_7="Weiß nicht",
            multiple="on",
            closes_at=later(),
            topics="verkehr",
            districts="nord",
        ),
    )
    poll = Poll.objects.select_related("post").get()
    assert response.status_code == 302 and response.url == f"/redaktion/{poll.post_id}/"
    assert [o.label for o in poll.options.all()] == ["Ja", "Nein", "Weiß nicht"]
    assert poll.multiple and poll.closes_at > timezone.now()
    post = poll.post
    assert (post.title, post.text, post.status) == (
        "Radweg",
        "Soll der Radweg an der Itz kommen?",
        "draft",
    )
    assert [t.slug for t in post.topics.all()] == ["verkehr"]
    assert [d.slug for d in post.districts.all()] == ["nord"]
    assert post.template is None and not post.share_footer
    assert AuditEntry.objects.filter(action="poll.created", actor=people["erika"]).count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"answer_2": ""}, "2 bis 10 Antworten"),
        ({"answer_1": "", "answer_2": ""}, "2 bis 10 Antworten"),
        ({"answer_2": " ja "}, "Antwort muss anders"),
        ({"answer_2": "x" * 21}, "höchstens 20 Zeichen"),
        ({"answer_3": "C", "answer_4": "D", "answer_5": "y" * 24 + "!"}, "höchstens 24 Zeichen"),
        ({"answer_1": "z" * 500}, "höchstens 24 Zeichen"),
        ({"title": ""}, "zwingend erforderlich"),
        ({"text": ""}, "zwingend erforderlich"),
        ({"text": "?" * 1025}, "höchstens 1024 Zeichen"),
        ({"closes_at": "morgen früh"}, "gültiges Datum"),
        ({"closes_at": "2001-01-01T10:00"}, "Zukunft"),
        ({"closes_at": later(2), "publish_at": later(5)}, "schließen, bevor"),
        ({"topics": "gibt-es-nicht"}, "gültige Auswahl"),
        ({"language": "fr"}, "gültige Auswahl"),
        ({"template": "news"}, "passt nicht"),
        ({"template": "nicht_da"}, "passt nicht"),
        ({"multiple": "vielleicht"}, None),  # any value ticks a checkbox: accepted
    ],
)
def test_wrong_input_is_refused_next_to_the_form_and_nothing_is_saved(
    as_, people, changes, message
):
    Template.objects.create(name="news", body="{{1}}", status="APPROVED")  # no buttons
    response = as_(people["erika"]).post(NEW, form(**changes))
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page, page[page.find('role="alert"') - 200 :][:600]
    assert 'role="alert"' in page
    assert not Poll.objects.exists() and not Post.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="poll.").exists()


def test_only_approved_templates_whose_buttons_fit_are_offered(as_, people):
    Template.objects.create(name="umfrage", body="{{1}}", buttons=["Abstimmen"], status="APPROVED")
    Template.objects.create(name="ja_nein", body="{{1}}", buttons=["Ja", "Nein"], status="APPROVED")
    Template.objects.create(name="news", body="{{1}}", status="APPROVED")
    Template.objects.create(name="pruefung", body="{{1}}", buttons=["Los"], status="PENDING")
    client = as_(people["erika"])
    page = client.get(NEW).content.decode()
    assert 'value="umfrage"' in page and 'value="ja_nein"' in page
    assert 'value="news"' not in page and 'value="pruefung"' not in page
    assert "umfrage (Abstimmen)" in page  # the buttons are shown with the name
    poll = actions.create_poll(
        people["erika"], title="Farbe", question="Welche Farbe?", answers=["Rot", "Grün"]
    )
    edit = client.get(f"/redaktion/{poll.post_id}/umfrage/").content.decode()
    assert 'value="umfrage"' in edit and 'value="ja_nein"' not in edit
    response = client.post(NEW, form(template="ja_nein"))
    assert response.status_code == 302
    assert Post.objects.get(title="Radweg").template.name == "ja_nein"


def test_a_draft_poll_is_changed_at_its_own_address_and_at_the_posts_edit_address(as_, people):
    poll = actions.create_poll(
        people["erika"], title="Radweg", question="Q?", answers=["Ja", "Nein"]
    )
    client = as_(people["emil"])  # an editor may change another's draft
    for address in (
        f"/redaktion/{poll.post_id}/umfrage/",
        f"/redaktion/{poll.post_id}/bearbeiten/",
    ):
        page = client.get(address).content.decode()
        assert 'value="Ja"' in page and 'name="answer_10"' in page, address
    response = client.post(
        f"/redaktion/{poll.post_id}/bearbeiten/",
        form(answer_1="Ja, bitte", answer_2="Nein", answer_3="Egal", text="Neue Frage?"),
    )
    assert response.status_code == 302
    poll.refresh_from_db()
    assert [o.label for o in poll.options.all()] == ["Ja, bitte", "Nein", "Egal"]
    assert poll.post.text == "Neue Frage?"
    assert AuditEntry.objects.filter(action="poll.updated", actor=people["emil"]).exists()


def test_a_poll_that_left_the_drafts_is_not_changed(as_, people):
    poll = actions.create_poll(
        people["erika"], title="Radweg", question="Q?", answers=["Ja", "Nein"]
    )
    posts.submit(poll.post, people["erika"])
    client = as_(people["erika"])
    response = client.post(f"/redaktion/{poll.post_id}/umfrage/", form(answer_1="Anders"))
    assert response.status_code == 302 and response.url == f"/redaktion/{poll.post_id}/"
    assert [o.label for o in poll.options.all()] == ["Ja", "Nein"]


@pytest.mark.parametrize("name", ["vera", "gerd", "ida", "dora"])
def test_who_may_not_write_posts_cannot_write_or_change_a_poll(as_, people, name):
    poll = actions.create_poll(
        people["erika"], title="Radweg", question="Q?", answers=["Ja", "Nein"]
    )
    client = as_(people[name])
    for address in (NEW, f"/redaktion/{poll.post_id}/umfrage/"):
        assert client.get(address).status_code == 403
        assert client.post(address, form(answer_1="Anders")).status_code == 403
    assert Poll.objects.count() == 1
    assert [o.label for o in poll.options.all()] == ["Ja", "Nein"]


def test_an_unknown_poll_is_404_and_an_ordinary_post_keeps_its_own_form(as_, people):
    client = as_(people["erika"])
    assert client.get("/redaktion/9999/umfrage/").status_code == 404
    post = posts.create_post(people["erika"], title="Fest", text="Am Samstag.")
    assert client.get(f"/redaktion/{post.pk}/umfrage/").status_code == 404
    page = client.get(f"/redaktion/{post.pk}/bearbeiten/").content.decode()
    assert 'name="answer_1"' not in page and 'name="link"' in page


def test_the_newsroom_offers_a_new_poll_and_marks_polls(as_, people):
    actions.create_poll(people["erika"], title="Radweg", question="Q?", answers=["Ja", "Nein"])
    posts.create_post(people["erika"], title="Fest", text="Am Samstag.")
    page = as_(people["erika"]).get("/redaktion/").content.decode()
    assert 'href="/redaktion/umfrage/neu/"' in page and "Neue Umfrage" in page
    assert page.count('class="badge poll"') == 1
    viewer = as_(people["vera"]).get("/redaktion/").content.decode()
    assert 'href="/redaktion/umfrage/neu/"' not in viewer


def test_the_post_page_shows_the_poll_as_buttons_or_as_a_list(as_, people):
    three = actions.create_poll(
        people["erika"], title="Drei", question="Welche?", answers=["Rot", "Grün", "Blau"]
    )
    page = as_(people["vera"]).get(f"/redaktion/{three.post_id}/").content.decode()
    assert '<ul class="chat-buttons" aria-label="Antwort-Schaltflächen">' in page
    assert "<li>Rot</li><li>Grün</li><li>Blau</li>" in page
    assert "Tippen Sie auf eine Antwort." in page  # the chat's own words, in the bubble
    assert f'href="/redaktion/{three.post_id}/ergebnisse/"' in page
    four = actions.create_poll(
        people["erika"], title="Vier", question="Welche?", answers=["A", "B", "C", "D"]
    )
    page = as_(people["vera"]).get(f"/redaktion/{four.post_id}/").content.decode()
    assert "☰ Antworten" in page
    assert '<ul class="chat-list"><li>A</li><li>B</li><li>C</li><li>D</li></ul>' in page


def test_the_template_and_its_buttons_are_previewed_for_those_outside_the_window(as_, people):
    Template.objects.create(
        name="umfrage", body="Neue Umfrage: {{1}}", buttons=["Abstimmen"], status="APPROVED"
    )
    poll = actions.create_poll(
        people["erika"], title="Radweg", question="Soll er kommen?", answers=["Ja", "Nein"],
        template="umfrage",
    )  # fmt: skip
    page = as_(people["erika"]).get(f"/redaktion/{poll.post_id}/").content.decode()
    assert "Neue Umfrage: Soll er kommen?" in page
    assert "<li>Abstimmen</li>" in page
