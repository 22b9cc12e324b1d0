from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_privacy_notice_linked_in_the_chat_is_served(client, settings):
    response = client.get("/datenschutz/")
    assert response.status_code == 200
    assert settings.PRIVACY_NOTICE_VERSION in response.content.decode()
