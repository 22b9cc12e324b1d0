"""The inbox search's trigram indexes (migration inbox 0003): on PostgreSQL they exist over the
very expression `icontains` searches and the planner can use them; on SQLite there are none and
nothing else changes. The search's results themselves are tested in test_inbox_lists.py."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from stadtbote.inbox import queries
from stadtbote.inbox.models import Concern, Message
from tests.helpers import ALICE
from tests.inbox_pages import chat_concern, citizen, writes

pytestmark = [pytest.mark.django_db, pytest.mark.backend]

MIGRATION = importlib.import_module("stadtbote.inbox.migrations.0003_search_trigram")


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {row[0] for row in cursor.fetchall()}


def test_the_indexes_exist_on_postgresql_only():
    names = _index_names()
    if connection.vendor == "postgresql":
        assert names == set(MIGRATION.INDEXES)
    else:
        assert not names & set(MIGRATION.INDEXES)


def test_postgresql_can_answer_the_search_from_the_index():
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    with connection.cursor() as cursor:
        # A tiny table is read whole anyway; without sequential scans (and without walking
        # another index in the model's order) the planner shows whether the index fits the
        # expression the search uses. A GIN index is only ever read by a bitmap scan.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        for model, field in [(Message, "text"), (Concern, "description")]:
            sql, params = (
                model.objects.filter(queries._contains(field, "Schlagloch"))
                .order_by()
                .query.sql_with_params()
            )
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "_trgm" in plan, plan


def test_search_finds_the_same_with_the_indexes(people):
    alice = citizen(ALICE)
    message = writes(alice, "Das Schlagloch in der Goethestraße wird größer")
    chat_concern(message.conversation, description="Schlagloch vor Hausnummer 3")
    user = people["gerd"]
    for q in ["schlagloch", "GOETHE", "Schlagloch Goethe"]:
        found = list(queries.conversations(queries.Filters(q=q), user))
        assert [c.subscriber_id for c in found] == [alice.pk], q
    assert list(queries.conversations(queries.Filters(q="Xylophon"), user)) == []
    assert len(list(queries.concerns(queries.Filters(q="SCHLAGLOCH")))) == 1


def test_the_migration_reverses_cleanly():
    from django.db.migrations.executor import MigrationExecutor

    if connection.vendor != "postgresql":
        pytest.skip("nothing to reverse on SQLite")
    with connection.schema_editor() as editor:
        MIGRATION.backwards(None, editor)
    assert not _index_names() & set(MIGRATION.INDEXES)
    with connection.schema_editor() as editor:
        MIGRATION.forwards(None, editor)
    assert _index_names() >= set(MIGRATION.INDEXES)
    assert MigrationExecutor(connection).migration_plan([("inbox", "0003_search_trigram")]) == []
