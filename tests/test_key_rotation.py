from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import override_settings

from stadtbote.lib import crypto
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.export import consent_history
from stadtbote.subscribers.models import Subscriber
from tests.helpers import ALICE, BOB, active_subscriber

pytestmark = pytest.mark.django_db


def test_rotation_moves_every_number_to_the_new_key_and_nobody_is_lost(settings, capsys):
    old_key = settings.FIELD_KEY
    active_subscriber(ALICE)
    active_subscriber(BOB)
    with override_settings(FIELD_KEY="a brand new key", FIELD_KEYS_PREVIOUS=[old_key]):
        # During the rotation both old and new rows are found.
        assert subscribers.find(ALICE) is not None
        call_command("rotate_field_key", "--batch-size", "1")
        assert "Re-encrypted 2 subscribers" in capsys.readouterr().out
        new_id = crypto.current_key().key_id
        for s in Subscriber.objects.all():
            assert crypto.key_id_of(bytes(s.phone_encrypted)) == new_id
        # The ledger written under the old key is still found while that key is listed.
        assert len(consent_history(ALICE)) == 2
    with override_settings(FIELD_KEY="a brand new key", FIELD_KEYS_PREVIOUS=[]):
        # Old key gone: everything still readable and findable.
        assert subscribers.find(ALICE).phone == ALICE
        assert subscribers.find(BOB).phone == BOB


def test_running_it_twice_changes_nothing_more(settings, capsys):
    active_subscriber(ALICE)
    call_command("rotate_field_key")
    assert "Re-encrypted 0 subscribers" in capsys.readouterr().out
