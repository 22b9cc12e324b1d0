"""Why something cannot be done is told to staff in their language, while the REST API, logs
and `str()` keep the English sentence."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import translation

from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import actions
from stadtbote.lib.problems import Problem, localised
from tests.helpers import staff_login, staff_with_roles

pytestmark = pytest.mark.django_db


def test_a_problem_is_english_in_str_and_translated_on_request():
    problem = actions.PostError("Unknown language: %(language)s.", language="xx")
    assert str(problem) == "Unknown language: xx."
    with translation.override("de"):
        assert localised(problem) == "Unbekannte Sprache: xx."
    with translation.override("en"):
        assert localised(problem) == "Unknown language: xx."
    # Other errors are shown as they are; an unknown message stays itself.
    assert localised(ValueError("plain")) == "plain"
    assert Problem("Not in the catalogue.").translated() == "Not in the catalogue."


def test_the_newsroom_tells_why_a_step_failed_in_the_staffs_language(client, django_user_model):
    people = staff_with_roles(django_user_model, erika=Role.EDITOR, paula=Role.APPROVER)
    post = actions.create_post(people["erika"], title="Fest", text="Samstag")
    staff_login(client, people["paula"])
    german = client.post(f"/redaktion/{post.pk}/cancel/", follow=True).content.decode()
    assert "Nur ein wartender oder gerade gesendeter Beitrag kann abgebrochen werden." in german
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.post(f"/redaktion/{post.pk}/cancel/", follow=True).content.decode()
    assert "Only a post that is waiting or being sent can be cancelled." in english


def test_the_api_keeps_the_english_sentence(client, django_user_model):
    from stadtbote.accounts.tokens import create_token

    editor = staff_with_roles(django_user_model, erika=Role.EDITOR)["erika"]
    token = create_token(editor)
    response = client.post(
        "/api/v1/posts",
        {"title": "Fest", "text": "Samstag", "language": "xx"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "Unknown language: xx."}
