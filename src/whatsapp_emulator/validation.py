"""Checks on bodies posted to ``/{version}/{phone_number_id}/messages``.

Limits follow Meta's OpenAPI description (``ActionObject``, ``BodyObject``, ``SectionObject``,
``MediaObject``, ...) and the contract. Each check raises a
:class:`~whatsapp_emulator.errors.GraphError` whose details name the offending parameter in
Meta's ``text['body']`` notation, so a failing client test points at the field.

These checks only look at the body. What a body refers to (an uploaded media id, a template,
the message a reaction is for) is checked when the send is accepted, see ``outgoing.py``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from whatsapp_emulator import errors

TEXT_BODY_MAX = 4096
BUTTONS_MIN = 1
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
# OpenAPI ``BodyObject``: one limit for the body of every interactive type, lists included.
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
CALLBACK_DATA_MAX = 512
CAPTION_MAX = 1024
PLACE_TEXT_MAX = 1000
# List messages (``ActionObject``, ``SectionObject``); rows count across all sections, as
# Meta's guide says (the OpenAPI schema only limits rows per section).
LIST_BUTTON_MAX = 20
SECTIONS_MIN = 1
SECTIONS_MAX = 10
SECTION_TITLE_MAX = 24
ROWS_MAX = 10
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
TEMPLATE_NAME_MAX = 512
TEMPLATE_BUTTON_INDEX_MAX = 9

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
# Audio and stickers have no caption on WhatsApp.
CAPTIONED_MEDIA_TYPES = ("image", "video", "document")

# Message types Meta knows (OpenAPI ``Message`` discriminator) that this version does not
# emulate yet; they get a clearer answer than a type Meta has never heard of.
NOT_YET_EMULATED_TYPES = frozenset(["contacts"])
NOT_YET_EMULATED_INTERACTIVE = frozenset(
    [
        "cta_url",
        "flow",
        "product",
        "product_list",
        "catalog_message",
        "call_permission_request",
        "location_request_message",
        "address_message",
        "order_details",
        "order_status",
        "carousel",
    ]
)
TEMPLATE_COMPONENT_TYPES = ("header", "body", "button")
TEMPLATE_PARAMETER_TYPES = (
    "text",
    "currency",
    "date_time",
    "image",
    "video",
    "document",
    "location",
    "payload",
)

# Clients write numbers as "+49 170 1234567", "49-170-1234567" or plain digits.
_PHONE_NUMBER = re.compile(r"\+?[0-9 ().-]+")

# One emoji as WhatsApp shows it: a flag (two regional indicators), a keycap, or pictographs
# with variation selectors, skin tones and tags, joined by zero-width joiners.
_PICTOGRAPH = (
    "[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf"
    "\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf"
    "\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0001faff]"
)
_EMOJI_ELEMENT = f"{_PICTOGRAPH}[\ufe0f\U0001f3fb-\U0001f3ff]*[\U000e0020-\U000e007f]*"
_SINGLE_EMOJI = re.compile(
    f"[\U0001f1e6-\U0001f1ff]{{2}}|[0-9#*]\ufe0f?\u20e3|{_EMOJI_ELEMENT}(?:\u200d{_EMOJI_ELEMENT})*"
)


@dataclass(frozen=True)
class TemplateParameter:
    """One parameter of a template send.

    ``text`` is what replaces a placeholder (a text parameter, or the ``fallback_value`` of a
    currency or date_time) or the payload of a quick-reply button.
    """

    type: str
    text: str | None = None
    media: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    name: str | None = None


@dataclass(frozen=True)
class TemplateComponentSend:
    """A ``template['components'][i]`` of a send: the parameters for one part of a template."""

    type: str  # header, body or button
    parameters: tuple[TemplateParameter, ...]
    path: str
    sub_type: str | None = None  # buttons only, lower case: quick_reply, url, ...
    index: int | None = None  # buttons only: the position of the button in the template


@dataclass(frozen=True)
class TemplateSend:
    name: str
    language: str
    components: tuple[TemplateComponentSend, ...]


@dataclass(frozen=True)
class OutgoingMessage:
    """A send request whose body passed the checks; the content fields hold what was checked.

    ``type`` tells which of ``text``, ``interactive``, ``media`` (image, audio, video,
    document, sticker), ``location``, ``reaction`` or ``template`` is set.
    """

    body: dict[str, Any]  # the request as posted, for the log of sends
    to: str
    wa_id: str
    type: str
    text: str | None
    interactive: dict[str, Any] | None
    context_message_id: str | None
    biz_opaque_callback_data: str | None
    # {"id"} of an uploaded file or {"link"}, plus "caption" and "filename" where given.
    media: dict[str, Any] | None = None
    # {"latitude", "longitude" (floats), ["name"], ["address"]}
    location: dict[str, Any] | None = None
    # {"message_id", "emoji"}; "" takes the business's reaction back.
    reaction: dict[str, str] | None = None
    template: TemplateSend | None = None

    @property
    def is_reaction(self) -> bool:
        """Reactions get only a ``sent`` status from Meta."""
        return self.type == "reaction"


@dataclass(frozen=True)
class MarkRead:
    """The business marks a received message as read (optionally showing a typing bubble)."""

    message_id: str
    typing_indicator: bool = False


def parse_messages_request(body: object) -> OutgoingMessage | MarkRead:
    if not isinstance(body, dict):
        raise errors.invalid_parameter("The request body must be a JSON object")
    _check_messaging_product(body)
    if "status" in body:
        return _parse_mark_read(body)
    return _parse_send(body)


def digits_of_phone_number(value: str) -> str | None:
    """The wa_id for a phone number as a client may write it, or None if it is none."""
    if not _PHONE_NUMBER.fullmatch(value):
        return None
    digits = re.sub(r"[^0-9]", "", value)
    # E.164 numbers have at most 15 digits; fewer than 6 cannot be a mobile number.
    if not 6 <= len(digits) <= 15:
        return None
    return digits


def is_single_emoji(value: str) -> bool:
    return _SINGLE_EMOJI.fullmatch(value) is not None


def parse_media_object(
    parent: dict[str, Any], key: str, path: str, kind: str, *, extras: bool = True
) -> dict[str, Any]:
    """A media object: exactly one of ``id`` (an upload) and ``link`` (http or https).

    With ``extras`` the caption (image, video, document) and filename (document) are read too.
    """
    media = _required_object(parent, key, path)
    has_id, has_link = "id" in media, "link" in media
    if has_id and has_link:
        raise errors.invalid_parameter(f"Param {path} must have either 'id' or 'link', not both")
    checked: dict[str, Any] = {}
    if has_id:
        checked["id"] = _required_string(media, "id", f"{path}['id']", max_length=None)
    elif has_link:
        link = _required_string(media, "link", f"{path}['link']", max_length=None)
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", link):
            raise errors.invalid_parameter(
                f"Param {path}['link'] must be an http:// or https:// URL"
            )
        checked["link"] = link
    else:
        raise errors.missing_parameter(f"The parameter {path}['id'] or {path}['link'] is required.")
    if not extras:
        return checked
    if "caption" in media:
        if kind not in CAPTIONED_MEDIA_TYPES:
            raise errors.invalid_parameter(f"Param {path}['caption'] is not allowed for {kind}")
        checked["caption"] = _required_string(
            media, "caption", f"{path}['caption']", max_length=CAPTION_MAX
        )
    if "filename" in media:
        if kind != "document":
            raise errors.invalid_parameter(f"Param {path}['filename'] is only for documents")
        checked["filename"] = _required_string(
            media, "filename", f"{path}['filename']", max_length=None
        )
    return checked


def parse_location_object(parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    location = _required_object(parent, key, path)
    checked: dict[str, Any] = {
        "latitude": _coordinate(location, "latitude", f"{path}['latitude']", 90),
        "longitude": _coordinate(location, "longitude", f"{path}['longitude']", 180),
    }
    for name in ("name", "address"):
        if name in location:
            checked[name] = _required_string(
                location, name, f"{path}['{name}']", max_length=PLACE_TEXT_MAX
            )
    return checked


def _check_messaging_product(body: dict[str, Any]) -> None:
    if "messaging_product" not in body:
        raise errors.missing_parameter("The parameter messaging_product is required.")
    if body["messaging_product"] != "whatsapp":
        raise errors.invalid_parameter("Param messaging_product must be 'whatsapp'")


def _parse_mark_read(body: dict[str, Any]) -> MarkRead:
    if body["status"] != "read":
        raise errors.invalid_parameter("Param status must be 'read'")
    message_id = _required_string(body, "message_id", "message_id", max_length=None)
    indicator = body.get("typing_indicator")
    if indicator is not None and (
        not isinstance(indicator, dict) or indicator.get("type") != "text"
    ):
        raise errors.invalid_parameter("Param typing_indicator['type'] must be 'text'")
    return MarkRead(message_id=message_id, typing_indicator=indicator is not None)


def _parse_send(body: dict[str, Any]) -> OutgoingMessage:
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise errors.invalid_parameter(
            "Param recipient_type: only 'individual' is supported by this emulator version"
        )
    to = _required_string(body, "to", "to", max_length=None)
    wa_id = digits_of_phone_number(to)
    if wa_id is None:
        raise errors.invalid_parameter("Param to must be a phone number with 6 to 15 digits")
    # Meta's documented default when ``type`` is left out.
    message_type = body.get("type", "text")
    if not isinstance(message_type, str):
        raise errors.invalid_parameter("Param type must be a string")
    content: dict[str, Any] = {"text": None, "interactive": None}
    if message_type == "text":
        content["text"] = _parse_text(body)
    elif message_type == "interactive":
        content["interactive"] = _parse_interactive(body)
    elif message_type in MEDIA_TYPES:
        content["media"] = parse_media_object(body, message_type, message_type, message_type)
    elif message_type == "location":
        content["location"] = parse_location_object(body, "location", "location")
    elif message_type == "reaction":
        content["reaction"] = _parse_reaction(body)
    elif message_type == "template":
        content["template"] = _parse_template(body)
    elif message_type in NOT_YET_EMULATED_TYPES:
        raise errors.invalid_parameter(
            f"Message type '{message_type}' is not supported by this emulator version yet; "
            "supported are text, image, audio, video, document, sticker, location, reaction, "
            "interactive (button, list) and template"
        )
    else:
        raise errors.invalid_parameter(f"Param type: unknown message type '{message_type}'")
    return OutgoingMessage(
        body=body,
        to=to,
        wa_id=wa_id,
        type=message_type,
        context_message_id=_parse_context(body),
        biz_opaque_callback_data=_parse_callback_data(body),
        **content,
    )


def _parse_text(body: dict[str, Any]) -> str:
    text = _required_object(body, "text", "text")
    preview_url = text.get("preview_url", False)
    if not isinstance(preview_url, bool):
        raise errors.invalid_parameter("Param text['preview_url'] must be a boolean")
    return _required_string(text, "body", "text['body']", max_length=TEXT_BODY_MAX)


def _parse_reaction(body: dict[str, Any]) -> dict[str, str]:
    reaction = _required_object(body, "reaction", "reaction")
    message_id = _required_string(reaction, "message_id", "reaction['message_id']", max_length=None)
    if "emoji" not in reaction:
        raise errors.missing_parameter(
            "The parameter reaction['emoji'] is required; send \"\" to remove a reaction."
        )
    emoji = reaction["emoji"]
    if not isinstance(emoji, str):
        raise errors.invalid_parameter("Param reaction['emoji'] must be a string")
    if emoji and not is_single_emoji(emoji):
        raise errors.invalid_parameter(
            "Param reaction['emoji'] must be exactly one emoji, or \"\" to remove the reaction"
        )
    return {"message_id": message_id, "emoji": emoji}


def _parse_interactive(body: dict[str, Any]) -> dict[str, Any]:
    interactive = _required_object(body, "interactive", "interactive")
    kind = _required_string(interactive, "type", "interactive['type']", max_length=None)
    if kind in NOT_YET_EMULATED_INTERACTIVE:
        raise errors.invalid_parameter(
            f"Interactive type '{kind}' is not supported by this emulator version yet; "
            "supported are 'button' and 'list'"
        )
    if kind not in ("button", "list"):
        raise errors.invalid_parameter(f"Param interactive['type']: unknown type '{kind}'")
    checked: dict[str, Any] = {"type": kind}
    if "header" in interactive:
        checked["header"] = _parse_header(interactive)
    body_object = _required_object(interactive, "body", "interactive['body']")
    checked["body"] = {
        "text": _required_string(
            body_object, "text", "interactive['body']['text']", max_length=INTERACTIVE_BODY_MAX
        )
    }
    if "footer" in interactive:
        footer = _required_object(interactive, "footer", "interactive['footer']")
        checked["footer"] = {
            "text": _required_string(
                footer, "text", "interactive['footer']['text']", max_length=FOOTER_TEXT_MAX
            )
        }
    action = _required_object(interactive, "action", "interactive['action']")
    if kind == "button":
        checked["action"] = {"buttons": _parse_buttons(action)}
    else:
        checked["action"] = _parse_list_action(action)
    return checked


def _parse_header(interactive: dict[str, Any]) -> dict[str, str]:
    header = _required_object(interactive, "header", "interactive['header']")
    kind = _required_string(header, "type", "interactive['header']['type']", max_length=None)
    if kind != "text":
        raise errors.invalid_parameter(
            f"Header type '{kind}' is not supported by this emulator version yet; "
            "supported is 'text'"
        )
    text = _required_string(
        header, "text", "interactive['header']['text']", max_length=HEADER_TEXT_MAX
    )
    return {"type": "text", "text": text}


def _parse_buttons(action: dict[str, Any]) -> list[dict[str, Any]]:
    if "buttons" not in action:
        raise errors.missing_parameter(
            "The parameter interactive['action']['buttons'] is required."
        )
    buttons = action["buttons"]
    if not isinstance(buttons, list):
        raise errors.invalid_parameter("Param interactive['action']['buttons'] must be an array")
    if not BUTTONS_MIN <= len(buttons) <= BUTTONS_MAX:
        raise errors.invalid_value(
            f"Invalid buttons count. Min allowed buttons: {BUTTONS_MIN}, "
            f"Max allowed buttons: {BUTTONS_MAX}"
        )
    checked: list[dict[str, Any]] = []
    for index, button in enumerate(buttons):
        path = f"interactive['action']['buttons'][{index}]"
        if not isinstance(button, dict):
            raise errors.invalid_parameter(f"Param {path} must be an object")
        if button.get("type") != "reply":
            raise errors.invalid_parameter(f"Param {path}['type'] must be 'reply'")
        reply = _required_object(button, "reply", f"{path}['reply']")
        button_id = _required_string(reply, "id", f"{path}['reply']['id']", max_length=None)
        if len(button_id) > BUTTON_ID_MAX:
            raise errors.invalid_value(
                f"Button id length invalid. Min length: 1, Max length: {BUTTON_ID_MAX}"
            )
        title = _required_string(reply, "title", f"{path}['reply']['title']", max_length=None)
        if len(title) > BUTTON_TITLE_MAX:
            raise errors.invalid_value(
                f"Button title length invalid. Min length: 1, Max length: {BUTTON_TITLE_MAX}"
            )
        checked.append({"type": "reply", "reply": {"id": button_id, "title": title}})
    ids = [button["reply"]["id"] for button in checked]
    if len(set(ids)) != len(ids):
        raise errors.invalid_value("Duplicate button id")
    titles = [button["reply"]["title"] for button in checked]
    if len(set(titles)) != len(titles):
        raise errors.invalid_value("Duplicate button title")
    return checked


def _parse_list_action(action: dict[str, Any]) -> dict[str, Any]:
    button = _required_string(action, "button", "interactive['action']['button']", max_length=None)
    if len(button) > LIST_BUTTON_MAX:
        raise errors.invalid_value(
            f"Button title length invalid. Min length: 1, Max length: {LIST_BUTTON_MAX}"
        )
    if "sections" not in action:
        raise errors.missing_parameter(
            "The parameter interactive['action']['sections'] is required."
        )
    sections = action["sections"]
    if not isinstance(sections, list):
        raise errors.invalid_parameter("Param interactive['action']['sections'] must be an array")
    if not SECTIONS_MIN <= len(sections) <= SECTIONS_MAX:
        raise errors.invalid_value(
            f"Invalid sections count. Min allowed sections: {SECTIONS_MIN}, "
            f"Max allowed sections: {SECTIONS_MAX}"
        )
    checked = [
        _parse_section(section, f"interactive['action']['sections'][{index}]", len(sections))
        for index, section in enumerate(sections)
    ]
    rows = [row for section in checked for row in section["rows"]]
    if len(rows) > ROWS_MAX:
        raise errors.invalid_value(
            f"Invalid rows count. Max allowed rows: {ROWS_MAX} across all sections, got {len(rows)}"
        )
    ids = [row["id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise errors.invalid_value("Duplicate row id")
    return {"button": button, "sections": checked}


def _parse_section(section: object, path: str, count: int) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise errors.invalid_parameter(f"Param {path} must be an object")
    checked: dict[str, Any] = {}
    if "title" in section:
        title = _required_string(section, "title", f"{path}['title']", max_length=None)
        if len(title) > SECTION_TITLE_MAX:
            raise errors.invalid_value(
                f"Section title length invalid. Min length: 1, Max length: {SECTION_TITLE_MAX}"
            )
        checked["title"] = title
    elif count > 1:
        raise errors.missing_parameter(
            f"The parameter {path}['title'] is required when there is more than one section."
        )
    if "rows" not in section:
        raise errors.missing_parameter(f"The parameter {path}['rows'] is required.")
    rows = section["rows"]
    if not isinstance(rows, list):
        raise errors.invalid_parameter(f"Param {path}['rows'] must be an array")
    if not rows:
        raise errors.invalid_value(f"Param {path}['rows'] must have at least one row")
    if len(rows) > ROWS_MAX:
        raise errors.invalid_value(f"Invalid rows count. Max allowed rows: {ROWS_MAX}")
    checked["rows"] = [
        _parse_row(row, f"{path}['rows'][{index}]") for index, row in enumerate(rows)
    ]
    return checked


def _parse_row(row: object, path: str) -> dict[str, str]:
    if not isinstance(row, dict):
        raise errors.invalid_parameter(f"Param {path} must be an object")
    row_id = _required_string(row, "id", f"{path}['id']", max_length=None)
    if len(row_id) > ROW_ID_MAX:
        raise errors.invalid_value(
            f"Row id length invalid. Min length: 1, Max length: {ROW_ID_MAX}"
        )
    title = _required_string(row, "title", f"{path}['title']", max_length=None)
    if len(title) > ROW_TITLE_MAX:
        raise errors.invalid_value(
            f"Row title length invalid. Min length: 1, Max length: {ROW_TITLE_MAX}"
        )
    checked = {"id": row_id, "title": title}
    if "description" in row:
        description = _required_string(
            row, "description", f"{path}['description']", max_length=None
        )
        if len(description) > ROW_DESCRIPTION_MAX:
            raise errors.invalid_value(
                f"Row description length invalid. Min length: 1, Max length: {ROW_DESCRIPTION_MAX}"
            )
        checked["description"] = description
    return checked


def _parse_template(body: dict[str, Any]) -> TemplateSend:
    template = _required_object(body, "template", "template")
    name = _required_string(template, "name", "template['name']", max_length=TEMPLATE_NAME_MAX)
    language = _required_object(template, "language", "template['language']")
    code = _required_string(language, "code", "template['language']['code']", max_length=None)
    if "policy" in language and language["policy"] != "deterministic":
        raise errors.invalid_parameter(
            "Param template['language']['policy'] must be 'deterministic'"
        )
    raw_components = template.get("components", [])
    if not isinstance(raw_components, list):
        raise errors.invalid_parameter("Param template['components'] must be an array")
    components = tuple(
        _parse_template_component(component, f"template['components'][{index}]")
        for index, component in enumerate(raw_components)
    )
    seen: set[tuple[str, int | None]] = set()
    for component in components:
        key = (component.type, component.index)
        if key in seen:
            what = f"button index {component.index}" if component.index is not None else "a"
            raise errors.invalid_value(
                f"Param template['components'] has {what} '{component.type}' component twice"
            )
        seen.add(key)
    return TemplateSend(name=name, language=code, components=components)


def _parse_template_component(component: object, path: str) -> TemplateComponentSend:
    if not isinstance(component, dict):
        raise errors.invalid_parameter(f"Param {path} must be an object")
    kind = _required_string(component, "type", f"{path}['type']", max_length=None).lower()
    if kind not in TEMPLATE_COMPONENT_TYPES:
        raise errors.invalid_parameter(
            f"Param {path}['type']: component type '{kind}' is not supported by this emulator "
            "version; supported are header, body and button"
        )
    raw_parameters = component.get("parameters", [])
    if not isinstance(raw_parameters, list):
        raise errors.invalid_parameter(f"Param {path}['parameters'] must be an array")
    parameters = tuple(
        _parse_template_parameter(parameter, f"{path}['parameters'][{index}]")
        for index, parameter in enumerate(raw_parameters)
    )
    if kind != "button":
        return TemplateComponentSend(type=kind, parameters=parameters, path=path)
    sub_type = _required_string(component, "sub_type", f"{path}['sub_type']", max_length=None)
    if "index" not in component:
        raise errors.missing_parameter(f"The parameter {path}['index'] is required.")
    index = component["index"]
    # Meta documents a string "0".."9"; its own examples and clients like pywa send numbers.
    if isinstance(index, str) and index.isascii() and index.isdigit():
        index = int(index)
    if (
        not isinstance(index, int)
        or isinstance(index, bool)
        or not 0 <= index <= TEMPLATE_BUTTON_INDEX_MAX
    ):
        raise errors.invalid_value(
            f"Param {path}['index'] must be a button position from 0 to {TEMPLATE_BUTTON_INDEX_MAX}"
        )
    return TemplateComponentSend(
        type=kind, parameters=parameters, path=path, sub_type=sub_type.lower(), index=index
    )


def _parse_template_parameter(parameter: object, path: str) -> TemplateParameter:
    if not isinstance(parameter, dict):
        raise errors.invalid_parameter(f"Param {path} must be an object")
    kind = _required_string(parameter, "type", f"{path}['type']", max_length=None).lower()
    name: str | None = None
    if "parameter_name" in parameter:
        name = _required_string(
            parameter, "parameter_name", f"{path}['parameter_name']", max_length=None
        )
    if kind == "text":
        text = _required_string(parameter, "text", f"{path}['text']", max_length=None)
        return TemplateParameter(type=kind, text=text, name=name)
    if kind in ("currency", "date_time"):
        value = _required_object(parameter, kind, f"{path}['{kind}']")
        fallback = _required_string(
            value, "fallback_value", f"{path}['{kind}']['fallback_value']", max_length=None
        )
        return TemplateParameter(type=kind, text=fallback, name=name)
    if kind in ("image", "video", "document"):
        media = parse_media_object(parameter, kind, f"{path}['{kind}']", kind, extras=False)
        return TemplateParameter(type=kind, media=media, name=name)
    if kind == "location":
        location = parse_location_object(parameter, "location", f"{path}['location']")
        return TemplateParameter(type=kind, location=location, name=name)
    if kind == "payload":
        payload = _required_string(parameter, "payload", f"{path}['payload']", max_length=None)
        return TemplateParameter(type=kind, text=payload, name=name)
    raise errors.invalid_parameter(
        f"Param {path}['type']: parameter type '{kind}' is not supported by this emulator "
        f"version; supported are {', '.join(TEMPLATE_PARAMETER_TYPES)}"
    )


def _coordinate(parent: dict[str, Any], key: str, path: str, limit: int) -> float:
    if key not in parent:
        raise errors.missing_parameter(f"The parameter {path} is required.")
    value = parent[key]
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise errors.invalid_parameter(f"Param {path} must be a number")
    if not -limit <= number <= limit:
        raise errors.invalid_value(f"Param {path} must be between -{limit} and {limit}")
    return number


def _parse_context(body: dict[str, Any]) -> str | None:
    if "context" not in body:
        return None
    context = _required_object(body, "context", "context")
    return _required_string(context, "message_id", "context['message_id']", max_length=None)


def _parse_callback_data(body: dict[str, Any]) -> str | None:
    if "biz_opaque_callback_data" not in body:
        return None
    value = body["biz_opaque_callback_data"]
    if not isinstance(value, str) or len(value) > CALLBACK_DATA_MAX:
        raise errors.invalid_parameter(
            f"Param biz_opaque_callback_data must be a string of at most {CALLBACK_DATA_MAX} "
            "characters"
        )
    return value


def _required_object(parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    if key not in parent:
        raise errors.missing_parameter(f"The parameter {path} is required.")
    value = parent[key]
    if not isinstance(value, dict):
        raise errors.invalid_parameter(f"Param {path} must be a JSON object")
    return value


def _required_string(parent: dict[str, Any], key: str, path: str, *, max_length: int | None) -> str:
    if key not in parent:
        raise errors.missing_parameter(f"The parameter {path} is required.")
    value = parent[key]
    if not isinstance(value, str):
        raise errors.invalid_parameter(f"Param {path} must be a string")
    if not value.strip():
        raise errors.invalid_parameter(f"Param {path} must not be empty")
    if max_length is not None and len(value) > max_length:
        raise errors.invalid_parameter(f"Param {path} must be at most {max_length} characters long")
    return value
