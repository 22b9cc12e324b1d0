from __future__ import annotations

import pytest
from huey.contrib.djhuey import HUEY

from stadtbote.dialogue import tasks
from stadtbote.worker import coalesce


@pytest.fixture(autouse=True)
def empty_queue():
    HUEY.flush()
    yield
    HUEY.flush()


@pytest.mark.backend
def test_a_burst_of_triggers_queues_one_job_until_it_starts():
    for _ in range(50):
        tasks.on_webhook_stored()
    assert HUEY.pending_count() == 1
    coalesce.started(tasks.APPLY_WAITING)  # what the job does first
    tasks.on_webhook_stored()
    assert HUEY.pending_count() == 2


@pytest.mark.backend
def test_the_kinds_of_work_do_not_block_each_other():
    tasks.on_webhook_stored()
    tasks.schedule_replies()
    assert HUEY.pending_count() == 2
