"""The templates page: Meta's verdict per template, and a button that asks Meta again."""

from __future__ import annotations

import pytest

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import templates
from stadtbote.broadcasts.models import Template
from tests.helpers import emulator_server, staff_login, staff_with_roles

pytestmark = pytest.mark.django_db

URL = "/redaktion/einstellungen/vorlagen/"


@pytest.fixture
def admin_client(client, django_user_model):
    staff_login(client, staff_with_roles(django_user_model, ida=Role.ADMINISTRATOR)["ida"])
    return client


def test_syncing_brings_metas_verdict_and_a_failure_is_said(admin_client):
    template = Template.objects.create(name="stadt_news", language="de", body="News: {{1}}")
    with emulator_server(auto_approve_templates=False) as emulator:
        templates.register(template)
        emulator.templates.set_status(emulator.templates.find("stadt_news", "de"), "REJECTED")
        answer = admin_client.post(URL, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    template.refresh_from_db()
    assert template.status == Template.Status.REJECTED
    html = answer.content.decode()
    assert "Meta&#x27;s verdicts are up to date." in html and "rejected" in html
    # Nothing listens on the configured address outside the block: a clear failure.
    failed = admin_client.post(URL, follow=True).content.decode()
    assert 'class="error"' in failed and "test-token" not in failed
    results = list(
        AuditEntry.objects.filter(action="settings.templates_synced")
        .order_by("pk")
        .values_list("details__ok", flat=True)
    )
    assert results == [True, False]
