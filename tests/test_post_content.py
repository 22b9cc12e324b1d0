"""What a post carries and how it looks: text with WhatsApp formatting, image with caption,
link with preview, the sharing footer; the audience by language; the phone-like preview."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from stadtbote.broadcasts import actions, audience, rendering, reports
from stadtbote.broadcasts.models import Delivery, Post
from stadtbote.channels.whatsapp import payloads
from stadtbote.subscribers import actions as subscribers
from tests.engine_support import (  # noqa: F401 -- fixtures
    approver,
    dispatch_all,
    editor,
    network,
    template,
)
from tests.helpers import ALICE, BOB, active_subscriber, staff_login

pytestmark = pytest.mark.django_db


def picture(kind: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


def _post(editor, **extra) -> Post:
    return actions.create_post(editor, title="Fest", text="Stadtfest am *Samstag*.", **extra)


# --- text and formatting -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*fett*", "<strong>fett</strong>"),
        ("_kursiv_", "<em>kursiv</em>"),
        ("~weg~", "<s>weg</s>"),
        ("```a *b*```", "<code class='mono'>a *b*</code>"),
        ("5*3*2", "5*3*2"),  # no word boundary: WhatsApp leaves it
        ("snake_case_name", "snake_case_name"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("> Zitat", "<blockquote>Zitat</blockquote>"),
        ("- Punkt", "<div class='li'>• Punkt</div>"),
    ],
)
def test_the_preview_renders_whatsapp_formatting_and_escapes_the_rest(text, html):
    assert html in rendering.whatsapp_html(text)


def test_links_in_the_preview_are_clickable_and_escaped():
    html = rendering.whatsapp_html("Mehr: https://stadt.example/a?b=1&c=2.")
    assert "href='https://stadt.example/a?b=1&amp;c=2'" in html
    assert html.endswith("</a>.</div>")


def test_a_text_over_4096_characters_is_refused(editor):
    with pytest.raises(actions.PostError, match="4,096"):
        actions.create_post(editor, title="Lang", text="x" * 4097)


def test_the_footer_and_link_count_towards_the_limit(editor, settings):
    settings.WHATSAPP_DISPLAY_NUMBER = "+49 6421 2010"
    with pytest.raises(actions.PostError, match="with link and footer"):
        actions.create_post(
            editor, title="Lang", text="x" * 4000, link="https://stadt.example/" + "a" * 80
        )


@pytest.mark.parametrize("link", ["ftp://x.example", "javascript:alert(1)", "https://a b.de"])
def test_a_link_must_be_a_web_address(editor, link):
    with pytest.raises(actions.PostError, match="link"):
        _post(editor, link=link)


# --- link, footer and sharing ------------------------------------------------------------


def test_the_message_carries_link_and_sharing_footer_with_the_posts_reference(
    editor, settings, network
):
    settings.WHATSAPP_DISPLAY_NUMBER = "+49 6421 2010"
    active_subscriber(ALICE)
    post = _post(editor, link="https://stadt.example/fest")
    actions.send_post(post)
    dispatch_all()
    message = network.sent[0].message
    assert message.text.startswith("Stadtfest am *Samstag*.\n\nhttps://stadt.example/fest\n\n")
    assert f"https://wa.me/4964212010?text=Start%20p{post.pk}" in message.text
    assert message.preview_url is True
    assert payloads.build(ALICE, message)["text"]["preview_url"] is True


def test_without_a_configured_number_or_when_switched_off_there_is_no_footer(editor, settings):
    settings.WHATSAPP_DISPLAY_NUMBER = ""
    assert "wa.me" not in rendering.message_text(_post(editor))
    settings.WHATSAPP_DISPLAY_NUMBER = "4964212010"
    assert "wa.me" not in rendering.message_text(_post(editor, share_footer=False))


def test_a_link_already_in_the_text_is_not_repeated(editor):
    post = _post(editor, link="https://stadt.example/fest", share_footer=False)
    post.text = "Alles unter https://stadt.example/fest"
    assert rendering.message_text(post) == "Alles unter https://stadt.example/fest"


# --- image -------------------------------------------------------------------------------


def test_an_image_goes_out_as_an_image_with_the_text_as_caption(editor, settings, network):
    settings.PUBLIC_URL = "https://stadtbote.stadt.example"
    active_subscriber(ALICE)
    post = actions.attach_image(_post(editor), editor, picture())
    actions.send_post(post)
    dispatch_all()
    body = payloads.build(ALICE, network.sent[0].message)
    assert body["type"] == "image"
    assert body["image"] == {
        "link": f"https://stadtbote.stadt.example/bilder/{post.pk}/",
        "caption": rendering.message_text(post),
    }


def test_the_image_is_public_only_once_the_post_is_approved(client, editor):
    post = actions.attach_image(_post(editor), editor, picture("JPEG"))
    assert client.get(f"/bilder/{post.pk}/").status_code == 404
    actions.send_post(post)
    response = client.get(f"/bilder/{post.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # a JPEG
    assert client.get("/bilder/999999/").status_code == 404


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"not an image at all", "not an image"),
        (picture("GIF"), "JPEG and PNG"),
        (picture()[:40], "not an image"),
        (b"\x89PNG" + b"\0" * (5 * 1024 * 1024), "5 MB"),
    ],
)
def test_bad_images_are_refused_and_nothing_is_stored(editor, data, problem):
    post = _post(editor)
    with pytest.raises(actions.PostError, match=problem):
        actions.attach_image(post, editor, data)
    post.refresh_from_db()
    assert not post.image


def test_with_an_image_the_text_must_fit_a_caption(editor):
    post = actions.create_post(editor, title="Lang", text="x" * 1500, share_footer=False)
    with pytest.raises(actions.PostError, match="caption"):
        actions.attach_image(post, editor, picture())


def test_only_a_drafts_image_can_change_and_only_by_its_editors(editor, django_user_model):
    post = _post(editor)
    stranger = django_user_model.objects.create(username="stranger")
    with pytest.raises(actions.NotAllowed):
        actions.attach_image(post, stranger, picture())
    actions.send_post(post)
    with pytest.raises(actions.PostError, match="draft"):
        actions.attach_image(post, editor, picture())


# --- audience ----------------------------------------------------------------------------


def test_a_post_in_one_language_reaches_only_that_languages_subscribers(editor, network):
    active_subscriber(ALICE)
    english = active_subscriber(BOB)
    subscribers.set_language(english, "en")
    post = _post(editor, language="en", template=None)
    assert audience.count(post).total == 1
    actions.send_post(post)
    assert list(Delivery.objects.values_list("subscriber_id", flat=True)) == [english.pk]


def test_an_unknown_language_is_refused(editor):
    with pytest.raises(actions.PostError, match="language"):
        _post(editor, language="fr")


def test_the_count_shown_before_sending_is_the_number_sent_to(editor, template):
    active_subscriber(ALICE)
    active_subscriber(BOB, wrote_just_now=False)
    subscribers.pause(active_subscriber("491700000077"), days=3)
    post = _post(editor)
    counted = audience.count(post)
    assert (counted.total, counted.in_window, counted.outside_window) == (2, 1, 1)
    assert counted.by_country == {"DE": 1}
    assert actions.send_post(post) == counted.total


def test_the_preview_shows_both_the_free_message_and_the_template(editor, template):
    shown = reports.preview(_post(editor))
    assert "<strong>Samstag</strong>" in shown["html"]
    assert shown["template_text"].startswith("Neues aus der Stadt: Stadtfest am *Samstag*.")
    assert shown["channel_copy"] == "*Fest*\n\nStadtfest am *Samstag*."


def test_the_staff_area_shows_preview_audience_funnel_and_channel_copy(
    client, django_user_model, editor, template
):
    admin = django_user_model.objects.create_superuser("chefin", password="x" * 12)
    staff_login(client, admin)
    active_subscriber(ALICE)
    post = _post(editor)
    page = client.get(f"/admin/broadcasts/post/{post.pk}/change/").content.decode()
    assert "<strong>Samstag</strong>" in page  # the phone-like preview
    assert "1 Empfänger" in page
    actions.send_post(post)
    page = client.get(f"/admin/broadcasts/post/{post.pk}/change/").content.decode()
    assert "1 gesamt" in page
    assert "*Fest*" in page  # the copy for the Channel
    response = client.post(
        "/admin/broadcasts/post/",
        {"action": "posted_to_channel", "_selected_action": [post.pk]},
        follow=True,
    )
    assert "als im Kanal gepostet vermerkt" in response.content.decode()
    assert client.get("/admin/broadcasts/channelposting/").status_code == 200
