"""Templates: registered with Meta (the emulator over HTTP), kept in step with its review,
and used automatically for subscribers outside the 24-hour window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stadtbote.broadcasts import actions, templates
from stadtbote.broadcasts import tasks as broadcast_tasks
from stadtbote.broadcasts.models import Delivery, Post, Template
from stadtbote.channels.models import SendState
from stadtbote.channels.sending import SendLoop
from stadtbote.channels.types import TemplateStatusChanged, TransportError
from stadtbote.dialogue import router
from stadtbote.subscribers.models import Subscriber
from tests.helpers import ALICE, BOB, active_subscriber, emulator_server

pytestmark = pytest.mark.django_db

NEWS = "Neues aus dem Rathaus: {{1}}\n\nAbmelden mit Stop."


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create(username="editor")


@pytest.fixture
def template() -> Template:
    return Template.objects.create(name="stadt_news", language="de", body=NEWS, status="APPROVED")


def make_post(
    editor, text="Die Hauptstraße ist gesperrt.\n\nUmleitung über die Ringstraße.", template=None
):
    post = actions.create_post(editor, title="Baustelle", text=text)
    post.template = template
    post.save()
    return post


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("Stadt News", "x", "lower-case"),
        ("news", "{{1}} {{3}}", "variable"),
        ("news", "{{2}}", "variable"),
        ("news", "x" * 1025, "1,024"),
    ],
)
def test_a_template_that_cannot_carry_a_post_is_refused(name, body, reason):
    with pytest.raises(templates.TemplateError, match=reason):
        templates.check(Template(name=name, body=body))


@pytest.mark.parametrize(
    "buttons",
    [["x" * 26], [""], ["  "], [f"B{n}" for n in range(11)], [3]],
)
def test_quick_reply_buttons_meta_would_refuse_are_refused(buttons):
    with pytest.raises(templates.TemplateError, match="quick-reply"):
        templates.check(Template(name="umfrage", body="{{1}}", buttons=buttons))


def test_a_template_with_quick_reply_buttons_is_registered_with_them(editor):
    Template.objects.create(name="umfrage", body="Frage: {{1}}", buttons=["Abstimmen"])
    with emulator_server() as emulator:
        templates.register(Template.objects.get())
        remote = emulator.templates.find("umfrage", "de")
    assert [b.text for b in remote.buttons] == ["Abstimmen"]


def test_the_demo_registers_a_poll_template_with_one_button(fresh_send_loop):
    from stadtbote import demo

    with emulator_server():
        assert demo.register_poll_template() == "APPROVED"
    template = Template.objects.get(name=demo.POLL_TEMPLATE)
    assert template.buttons == ["Abstimmen"]


def test_a_post_fills_the_template_on_one_line_per_paragraph(editor, template):
    message = templates.fill(template, make_post(editor))
    assert message.template.parameters == (
        "Die Hauptstraße ist gesperrt. – Umleitung über die Ringstraße.",
    )
    assert message.text.startswith("Neues aus dem Rathaus: Die Hauptstraße ist gesperrt.")


def test_a_long_post_is_shortened_to_what_meta_allows(editor, template):
    message = templates.fill(template, make_post(editor, text="Wort " * 400))
    assert len(message.text) <= 1024
    assert message.template.parameters[0].endswith("…")


def test_registering_and_syncing_talk_to_the_graph_api(editor):
    template = Template.objects.create(name="stadt_news", language="de", body=NEWS)
    with emulator_server(auto_approve_templates=False) as emulator:
        templates.register(template)
        assert template.status == "PENDING"
        assert template.meta_id
        remote = emulator.templates.find("stadt_news", "de")
        assert remote is not None
        emulator.templates.set_status(remote, "APPROVED")
        assert templates.sync() == 1
    template.refresh_from_db()
    assert template.status == "APPROVED"


def test_meta_refusing_a_template_is_a_clear_error(editor):
    Template.objects.create(name="stadt_news", language="de", body=NEWS)
    with emulator_server() as _:
        templates.register(Template.objects.get())
        duplicate = Template(name="stadt_news", language="de", body=NEWS)
        with pytest.raises(TransportError) as info:
            templates.register(duplicate)
    assert info.value.permanent


def test_the_review_result_arrives_by_webhook():
    Template.objects.create(name="stadt_news", language="de", body=NEWS, status="PENDING")
    router.handle(
        TemplateStatusChanged(name="stadt_news", language="de", status="REJECTED", reason="SCAM")
    )
    template = Template.objects.get()
    assert (template.status, template.status_reason) == ("REJECTED", "SCAM")


def test_a_post_with_an_unapproved_template_cannot_be_sent(editor):
    pending = Template.objects.create(name="x", language="de", body=NEWS, status="PENDING")
    active_subscriber()
    post = make_post(editor, template=pending)
    with pytest.raises(actions.PostError, match="not approved"):
        actions.send_post(post)
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


class Recorder:
    def __init__(self):
        self.sent = []

    def __call__(self, items):
        self.sent.extend(items)
        return [f"wamid.T{n}" for n, _ in enumerate(items)]


def test_inside_the_window_free_form_outside_the_template(editor, template, monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(SendLoop, "send_many", recorder)
    active_subscriber(ALICE)  # wrote just now
    bob = active_subscriber(BOB)
    Subscriber.objects.filter(pk=bob.pk).update(last_inbound_at=timezone.now() - timedelta(days=3))
    actions.send_post(make_post(editor, template=template))
    broadcast_tasks.dispatch_once()
    by_number = {item.to: item.message for item in recorder.sent}
    assert by_number[ALICE].template is None
    assert by_number[BOB].template.name == "stadt_news"
    assert by_number[BOB].template.language == "de"


def test_without_a_template_those_outside_the_window_are_left_out_with_the_reason(
    editor, monkeypatch
):
    recorder = Recorder()
    monkeypatch.setattr(SendLoop, "send_many", recorder)
    active_subscriber(ALICE, wrote_just_now=False)
    actions.send_post(make_post(editor))
    broadcast_tasks.dispatch_once()
    assert recorder.sent == []
    delivery = Delivery.objects.get()
    assert delivery.state == SendState.FAILED
    assert "24-hour window" in delivery.last_error


@pytest.fixture
def fresh_send_loop():
    """The process's send loop reads the WhatsApp settings once; start it anew around a test
    that points them at its own emulator."""
    SendLoop.shutdown()
    yield
    SendLoop.shutdown()


def test_a_template_post_reaches_the_phone_through_the_emulator(editor, template, fresh_send_loop):
    active_subscriber(ALICE, wrote_just_now=False)
    with emulator_server(service_window=86400.0) as emulator:
        templates.register(template)  # auto-approved by the emulator
        actions.send_post(make_post(editor, template=template))
        while broadcast_tasks.dispatch_once():
            pass
        [chat_message] = [m for m in emulator.state.user(ALICE).messages if m.direction == "out"]
    assert chat_message.type == "template"
    assert Delivery.objects.get().state == SendState.ACCEPTED


def test_a_new_post_takes_the_configured_template_by_default(editor, template, settings):
    settings.POST_TEMPLATE = "stadt_news"
    assert actions.create_post(editor, title="T", text="x").template == template
    settings.POST_TEMPLATE = "something_else"
    assert actions.create_post(editor, title="T", text="x").template is None


def test_an_unknown_template_is_refused(editor):
    with pytest.raises(actions.PostError, match="Unknown template: nope"):
        actions.create_post(editor, title="T", text="x", template="nope")


def test_the_demo_registers_its_news_template_once(fresh_send_loop):
    from stadtbote import demo

    with emulator_server():
        assert demo.register_news_template() == "APPROVED"
        Template.objects.update(status="PENDING")
        assert demo.register_news_template() == "APPROVED"  # already there: synced instead
    assert Template.objects.count() == 1
