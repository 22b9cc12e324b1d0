"""Who gets a post: topics, districts, opt-in-only topics, pauses and platform signals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote.broadcasts import actions
from stadtbote.broadcasts.models import Delivery
from stadtbote.subscribers import actions as subscribers
from stadtbote.subscribers.models import District, Subscriber, Topic
from tests.helpers import active_subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(django_user_model):
    topics = {
        slug: Topic.objects.create(name=slug, slug=slug, opt_in_only=slug == "sport")
        for slug in ("bau", "feste", "sport")
    }
    districts = {slug: District.objects.create(name=slug, slug=slug) for slug in ("nord", "sued")}
    people = {
        name: active_subscriber(f"4917000000{n:02d}")
        for n, name in enumerate(["everything", "bau_only", "sport_fan", "nord_only", "sued_bau"])
    }
    subscribers.toggle_topic(people["bau_only"], topics["bau"])
    subscribers.toggle_topic(people["sport_fan"], topics["sport"])
    subscribers.toggle_district(people["nord_only"], districts["nord"])
    subscribers.toggle_district(people["sued_bau"], districts["sued"])
    subscribers.toggle_topic(people["sued_bau"], topics["bau"])
    editor = django_user_model.objects.create(username="editor")
    return topics, districts, people, editor


def recipients(post, people) -> set[str]:
    actions.send_post(post)
    ids = set(Delivery.objects.filter(post=post).values_list("subscriber_id", flat=True))
    return {name for name, s in people.items() if s.pk in ids}


def make_post(editor, topics=(), districts=()):
    post = actions.create_post(editor, title="T", text="x")
    post.topics.set(topics)
    post.districts.set(districts)
    return post


def test_a_post_without_audience_goes_to_everybody(world):
    _, _, people, editor = world
    assert recipients(make_post(editor), people) == set(people)


def test_a_topic_post_goes_to_those_who_chose_it_and_to_those_who_chose_nothing(world):
    topics, _, people, editor = world
    post = make_post(editor, topics=[topics["bau"]])
    assert recipients(post, people) == {"everything", "bau_only", "nord_only", "sued_bau"}


def test_an_opt_in_only_topic_goes_only_to_those_who_chose_it(world):
    topics, _, people, editor = world
    assert recipients(make_post(editor, topics=[topics["sport"]]), people) == {"sport_fan"}


def test_a_post_with_an_opt_in_and_a_normal_topic_reaches_the_undecided(world):
    topics, _, people, editor = world
    post = make_post(editor, topics=[topics["sport"], topics["feste"]])
    assert recipients(post, people) == {"everything", "sport_fan", "nord_only"}


def test_a_district_post_goes_to_that_district_and_to_the_whole_city_listeners(world):
    _, districts, people, editor = world
    post = make_post(editor, districts=[districts["nord"]])
    assert recipients(post, people) == {"everything", "bau_only", "sport_fan", "nord_only"}


def test_topic_and_district_must_both_match(world):
    topics, districts, people, editor = world
    post = make_post(editor, topics=[topics["bau"]], districts=[districts["sued"]])
    assert recipients(post, people) == {"everything", "bau_only", "sued_bau"}


def test_paused_unreachable_and_marketing_stopped_subscribers_are_left_out(world):
    _, _, people, editor = world
    Subscriber.objects.filter(pk=people["everything"].pk).update(
        paused_until=timezone.now() + timedelta(days=1)
    )
    Subscriber.objects.filter(pk=people["bau_only"].pk).update(unreachable_code=131026)
    Subscriber.objects.filter(pk=people["sport_fan"].pk).update(marketing_stopped=True)
    Subscriber.objects.filter(pk=people["nord_only"].pk).update(
        paused_until=timezone.now() - timedelta(minutes=1)  # the pause is over
    )
    assert recipients(make_post(editor), people) == {"nord_only", "sued_bau"}
