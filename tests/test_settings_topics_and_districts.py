"""Topics and districts kept by an administrator in the newsroom: added, renamed, described,
reordered; deleted only when no post and no subscriber uses them, otherwise the page says why."""

from __future__ import annotations

import pytest

from stadtbote.accounts.models import AuditEntry
from stadtbote.accounts.roles import Role
from stadtbote.broadcasts import actions
from stadtbote.subscribers.models import District, Topic
from tests.helpers import active_subscriber, staff_login, staff_with_roles

pytestmark = pytest.mark.django_db

TOPICS = "/redaktion/einstellungen/themen/"
DISTRICTS = "/redaktion/einstellungen/stadtteile/"


@pytest.fixture
def ida(django_user_model):
    return staff_with_roles(django_user_model, ida=Role.ADMINISTRATOR)["ida"]


@pytest.fixture
def admin_client(client, ida):
    staff_login(client, ida)
    return client


@pytest.fixture
def topics(db):
    return [
        Topic.objects.create(name="Baustellen", slug="baustellen", position=1),
        Topic.objects.create(name="Kultur", slug="kultur", position=2),
        Topic.objects.create(name="Rathaus", slug="rathaus", position=3),
    ]


def test_a_topic_is_added_at_the_end_and_recorded(admin_client, topics):
    answer = admin_client.post(
        TOPICS,
        {"name": "Warnungen", "slug": "warnungen", "description": "Unwetter", "opt_in_only": "on"},
    )
    assert answer.status_code == 302
    added = Topic.objects.get(slug="warnungen")
    assert (added.name, added.description, added.opt_in_only, added.position) == (
        "Warnungen",
        "Unwetter",
        True,
        4,
    )
    entry = AuditEntry.objects.get(action="settings.topic_added")
    assert entry.target_id == str(added.pk) and entry.actor_name == "ida"


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({"name": "Kultur", "slug": "kultur-2"}, "name", "already exists"),
        ({"name": "Kultur 2", "slug": "kultur"}, "slug", "already exists"),
        ({"name": "", "slug": "leer"}, "name", "required"),
        ({"name": "x" * 81, "slug": "lang"}, "name", "at most 80"),
        ({"name": "Lang", "slug": "l" * 51}, "slug", "at most 50"),
        ({"name": "Sonder", "slug": "mit leerzeichen"}, "slug", "letters, numbers"),
        ({"name": "Sonder", "slug": "ä<script>"}, "slug", "letters, numbers"),
        ({"name": "Beschrieben", "slug": "b", "description": "d" * 201}, "description", "200"),
    ],
)
def test_a_wrong_topic_is_refused_with_a_reason(admin_client, topics, data, field, problem):
    answer = admin_client.post(TOPICS, data, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    assert problem in " ".join(answer.context["form"].errors[field])
    assert Topic.objects.count() == 3
    assert not AuditEntry.objects.filter(action__startswith="settings.").exists()


def test_a_topic_is_renamed_and_described_with_old_and_new_values_recorded(admin_client, topics):
    kultur = topics[1]
    answer = admin_client.post(
        f"{TOPICS}{kultur.pk}/",
        {"name": "Kultur & Freizeit", "slug": "kultur", "description": "Theater, Museen"},
    )
    assert answer.status_code == 302
    kultur.refresh_from_db()
    assert (kultur.name, kultur.description, kultur.opt_in_only) == (
        "Kultur & Freizeit",
        "Theater, Museen",
        False,
    )
    changed = AuditEntry.objects.get(action="settings.topic_changed").details["changed"]
    assert changed == {
        "name": ["Kultur", "Kultur & Freizeit"],
        "description": ["", "Theater, Museen"],
    }


def test_renaming_to_a_name_taken_by_another_is_refused(admin_client, topics):
    answer = admin_client.post(f"{TOPICS}{topics[1].pk}/", {"name": "Rathaus", "slug": "kultur"})
    assert answer.status_code == 200 and "name" in answer.context["form"].errors
    assert Topic.objects.get(pk=topics[1].pk).name == "Kultur"


def test_topics_are_reordered_one_place_at_a_time(admin_client, topics):
    assert admin_client.post(f"{TOPICS}{topics[2].pk}/up/").status_code == 302
    assert list(Topic.objects.values_list("slug", flat=True)) == [
        "baustellen",
        "rathaus",
        "kultur",
    ]
    admin_client.post(f"{TOPICS}{topics[0].pk}/up/")  # first already: nothing moves
    admin_client.post(f"{TOPICS}{topics[0].pk}/down/")
    assert list(Topic.objects.values_list("slug", flat=True)) == [
        "rathaus",
        "baustellen",
        "kultur",
    ]
    assert AuditEntry.objects.filter(action="settings.topic_moved").count() == 2


def test_a_topic_in_use_is_not_deleted_and_the_page_says_why(admin_client, topics, ida):
    baustellen, kultur, rathaus = topics
    subscriber = active_subscriber()
    subscriber.topics.add(kultur)
    post = actions.create_post(ida, title="Sperrung", text="Hauptstraße")
    post.topics.add(baustellen)
    for topic in (baustellen, kultur):
        answer = admin_client.post(
            f"{TOPICS}{topic.pk}/delete/", follow=True, HTTP_ACCEPT_LANGUAGE="en"
        )
        assert "still used by" in answer.content.decode()
    assert Topic.objects.count() == 3
    page = admin_client.get(f"{TOPICS}{kultur.pk}/").content.decode()
    assert f"{TOPICS}{kultur.pk}/delete/" not in page  # no button, the reason instead
    assert admin_client.post(f"{TOPICS}{rathaus.pk}/delete/").status_code == 302
    assert not Topic.objects.filter(pk=rathaus.pk).exists()
    assert AuditEntry.objects.get(action="settings.topic_deleted").details == {"slug": "rathaus"}


def test_districts_are_kept_the_same_way(admin_client):
    assert admin_client.post(DISTRICTS, {"name": "Altstadt", "slug": "altstadt"}).status_code == 302
    assert admin_client.post(DISTRICTS, {"name": "Altstadt", "slug": "x"}).status_code == 200
    altstadt = District.objects.get()
    subscriber = active_subscriber()
    subscriber.districts.add(altstadt)
    admin_client.post(f"{DISTRICTS}{altstadt.pk}/delete/")
    assert District.objects.filter(pk=altstadt.pk).exists()
    subscriber.districts.clear()
    admin_client.post(f"{DISTRICTS}{altstadt.pk}/", {"name": "Alte Stadt", "slug": "altstadt"})
    assert District.objects.get().name == "Alte Stadt"
    admin_client.post(f"{DISTRICTS}{altstadt.pk}/delete/")
    assert not District.objects.exists()
    assert list(
        AuditEntry.objects.filter(action__startswith="settings.district")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["settings.district_added", "settings.district_changed", "settings.district_deleted"]
