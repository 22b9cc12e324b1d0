"""A new concern routes its conversation to the category's department, unless someone already
routed the conversation: agents filter the inbox by department and must find new reports."""

from __future__ import annotations

import secrets

import pytest

from stadtbote.inbox.models import Category, Conversation, Department
from stadtbote.inbox.queries import Filters, conversations
from tests.helpers import BOB
from tests.inbox_pages import chat_concern, citizen, open311_concern, writes

pytestmark = pytest.mark.django_db


def _category(department: Department | None) -> Category:
    return Category.objects.create(
        name=secrets.token_hex(4), service_code=secrets.token_hex(4), department=department
    )


def test_an_unrouted_conversation_goes_where_its_first_concern_goes():
    lighting = Department.objects.create(name="Stadtwerke")
    conversation = writes(citizen(), "Die Laterne ist aus.").conversation
    chat_concern(conversation, category=_category(lighting))
    conversation.refresh_from_db()
    assert conversation.department == lighting


def test_a_routing_someone_chose_is_kept():
    chosen, other = (Department.objects.create(name=n) for n in ("Bürgerbüro", "Stadtwerke"))
    conversation = writes(citizen(), "Die Laterne ist aus.").conversation
    Conversation.objects.filter(pk=conversation.pk).update(department=chosen)
    conversation.refresh_from_db()
    chat_concern(conversation, category=_category(other))
    assert conversation.department == chosen
    conversation.refresh_from_db()
    assert conversation.department == chosen


def test_a_second_concern_does_not_move_the_conversation():
    first, second = (Department.objects.create(name=n) for n in ("Tiefbau", "Grünflächen"))
    conversation = writes(citizen(), "Zwei Dinge.").conversation
    chat_concern(conversation, category=_category(first))
    chat_concern(conversation, category=_category(second))
    conversation.refresh_from_db()
    assert conversation.department == first


def test_a_category_without_department_leaves_the_conversation_unrouted():
    conversation = writes(citizen(), "Irgendwas.").conversation
    chat_concern(conversation, category=_category(None))
    conversation.refresh_from_db()
    assert conversation.department is None


def test_an_open311_concern_has_no_conversation_to_route():
    lighting = Department.objects.create(name="Stadtwerke")
    untouched = writes(citizen(BOB), "Hallo").conversation
    concern = open311_concern(category=_category(lighting))
    assert concern.conversation is None and concern.department == lighting
    untouched.refresh_from_db()
    assert untouched.department is None


def test_the_department_filter_of_the_inbox_finds_the_new_report(django_user_model):
    agent = django_user_model.objects.create_user("gerd")
    lighting = Department.objects.create(name="Stadtwerke")
    conversation = writes(citizen(), "Die Laterne ist aus.").conversation
    chat_concern(conversation, category=_category(lighting))
    found = conversations(Filters(department=lighting), agent)
    assert list(found.values_list("pk", flat=True)) == [conversation.pk]
