"""What an accepted send becomes in the chat, after checking what it refers to.

The body checks (``validation.py``) cannot know the emulator's state; here a send's
references are resolved: an uploaded media id, the template and its parameters, the message
a reaction is for. Every failure raises a GraphError before anything is recorded.
"""

from __future__ import annotations

from typing import Any

from whatsapp_emulator import errors
from whatsapp_emulator.media import sendable_as
from whatsapp_emulator.state import EmulatorState, MediaStore
from whatsapp_emulator.templates import TemplateRegistry
from whatsapp_emulator.validation import OutgoingMessage

SERVICE = "service"


def chat_fields(
    request: OutgoingMessage, state: EmulatorState, templates: TemplateRegistry
) -> dict[str, Any]:
    """The content fields of the ``ChatMessage`` for this send, ``pricing_category`` included.

    ``pricing_category`` is "service" for free-form messages and the template's category in
    lower case ("marketing", "utility", "authentication") for templates.
    """
    fields: dict[str, Any] = {
        "text": request.text,
        "interactive": request.interactive,
        "pricing_category": SERVICE,
    }
    if request.media is not None:
        fields["media"] = _media(request.type, request.media, state.media)
    if request.location is not None:
        fields["location"] = dict(request.location)
    if request.reaction is not None:
        _check_reaction_target(request, state)
        fields["reaction"] = dict(request.reaction)
    if request.template is not None:
        rendered = templates.render(
            request.template, lambda media_id: _mime_type(state.media, media_id)
        )
        fields["template"] = rendered.chat
        fields["text"] = rendered.text
        fields["pricing_category"] = rendered.template.category.lower()
    return fields


def _media(kind: str, media: dict[str, Any], store: MediaStore) -> dict[str, Any]:
    if "link" in media:
        return dict(media)
    item = store.get(media["id"])
    if item is None:
        raise errors.invalid_value(
            f"Param {kind}['id']: no uploaded media has the ID '{media['id']}'"
        )
    if not sendable_as(kind, item.mime_type):
        raise errors.invalid_value(
            f"Param {kind}['id']: media {item.id} is {item.mime_type}, which cannot be sent as {kind}"
        )
    # The phone page shows uploads through the control API's /media/{id}.
    return {**media, "mime_type": item.mime_type, "sha256": item.sha256}


def _mime_type(store: MediaStore, media_id: str) -> str | None:
    item = store.get(media_id)
    return None if item is None else item.mime_type


def _check_reaction_target(request: OutgoingMessage, state: EmulatorState) -> None:
    """A reaction must be for a message the business sent or received in this chat."""
    assert request.reaction is not None
    message_id = request.reaction["message_id"]
    found = state.find_message(message_id)
    if found is None or found[0].wa_id != request.wa_id or found[1].is_reaction:
        raise errors.invalid_value(
            f"Param reaction['message_id']: no message with the ID '{message_id}' in the chat "
            f"with {request.wa_id}"
        )
