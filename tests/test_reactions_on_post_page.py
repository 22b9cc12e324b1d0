"""The newsroom's post page shows the post's current reactions per emoji next to its funnel,
to every role that reads posts; an empty state before the first; nothing for a post that has
not gone out; an emoji that is markup stays text."""

from __future__ import annotations

import pytest

from stadtbote.broadcasts import actions
from tests.helpers import ALICE, BOB, active_subscriber
from tests.reaction_support import message_id, react, sent_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_immediate_sending(monkeypatch):
    monkeypatch.setattr("stadtbote.dialogue.outbox.transaction.on_commit", lambda fn: None)


@pytest.fixture
def post(people):
    return sent_post(people["erika"], [active_subscriber(ALICE), active_subscriber(BOB)])


def section(html: str) -> str:
    start = html.index('<section aria-labelledby="reactions">')
    return html[start : html.index("</section>", start)]


@pytest.mark.parametrize("name", ["ida", "erika", "paula", "gerd", "vera", "dora"])
def test_every_role_sees_the_reactions_per_emoji(as_, people, post, name):
    react(ALICE, message_id(post, 0), "👍")
    react(BOB, message_id(post, 1), "❤️")
    page = as_(people[name]).get(f"/redaktion/{post.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    shown = section(page.content.decode())
    assert "Reactions in the chat" in shown
    assert "<dt>👍</dt><dd>1</dd>" in shown and "<dt>❤️</dt><dd>1</dd>" in shown


def test_they_are_counted_as_they_stand_now(as_, people, post):
    react(ALICE, message_id(post, 0), "👍")
    react(BOB, message_id(post, 1), "👍")
    react(BOB, message_id(post, 1), None)
    shown = section(as_(people["vera"]).get(f"/redaktion/{post.pk}/").content.decode())
    assert "<dt>👍</dt><dd>1</dd>" in shown


def test_before_the_first_reaction_the_page_says_so(as_, people, post):
    page = as_(people["vera"]).get(f"/redaktion/{post.pk}/")
    assert "Noch keine Reaktionen." in section(page.content.decode())  # German by default


def test_a_post_that_has_not_gone_out_has_no_reactions_section(as_, people):
    draft = actions.create_post(people["erika"], title="Entwurf", text="Noch nicht gesendet.")
    page = as_(people["erika"]).get(f"/redaktion/{draft.pk}/")
    assert page.status_code == 200
    assert 'aria-labelledby="reactions"' not in page.content.decode()


def test_an_emoji_that_is_markup_stays_text(as_, people, post):
    react(ALICE, message_id(post, 0), "<i>x</i>")
    shown = section(as_(people["vera"]).get(f"/redaktion/{post.pk}/").content.decode())
    assert "&lt;i&gt;x&lt;/i&gt;" in shown and "<i>x</i>" not in shown


def test_strangers_are_sent_to_the_login(client, post):
    answer = client.get(f"/redaktion/{post.pk}/")
    assert answer.status_code == 302 and "login" in answer["Location"]
