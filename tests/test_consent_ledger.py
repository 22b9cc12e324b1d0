from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from stadtbote.subscribers.models import ConsentEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry() -> ConsentEvent:
    return ConsentEvent.objects.create(
        subscriber_ref="abc", action="confirmed", wording="Willkommen", notice_version="2026-11"
    )


def test_it_refuses_to_save_an_entry_again(entry):
    entry.wording = "changed"
    with pytest.raises(PermissionError):
        entry.save()


def test_it_refuses_to_delete_an_entry(entry):
    with pytest.raises(PermissionError):
        entry.delete()


def test_it_refuses_bulk_updates_and_deletes(entry):
    with pytest.raises(PermissionError):
        ConsentEvent.objects.filter(pk=entry.pk).update(wording="changed")
    with pytest.raises(PermissionError):
        ConsentEvent.objects.all().delete()


def test_the_database_refuses_updates_and_deletes_behind_the_orm(entry):
    table = ConsentEvent._meta.db_table
    for sql in (f"UPDATE {table} SET wording = 'x'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    entry.refresh_from_db()
    assert entry.wording == "Willkommen"
