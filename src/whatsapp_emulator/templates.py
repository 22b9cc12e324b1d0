"""Message templates: created through the Graph API, approved or not, rendered when sent.

Meta's side of templates as the app sees it:

- ``POST /{version}/{waba_id}/message_templates`` creates a template (``{"id", "status",
  "category"}``); ``GET`` lists them (``{"data", "paging", ["summary"]}``); ``DELETE ?name=``
  removes one name in every language (or one template with ``hsm_id``).
- A template can be sent once it is APPROVED. With ``auto_approve_templates`` (the default)
  that happens on creation; otherwise a test sets the status through the control API.
- Every status change is announced with the ``message_template_status_update`` webhook.
- A send names the template and language and gives parameters for each placeholder; the
  chat records the text with the placeholders filled and the quick-reply buttons, so the
  phone page can show and tap them.

Like every WhatsApp Business Account, the emulator starts with Meta's ``hello_world``
template (en_US, approved). Templates are account setup, not traffic: ``reset`` keeps them.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from whatsapp_emulator import errors
from whatsapp_emulator.config import EmulatorConfig
from whatsapp_emulator.jsonio import encode_compact
from whatsapp_emulator.validation import TemplateComponentSend, TemplateParameter, TemplateSend
from whatsapp_emulator.webhooks import WebhookEvent, WebhookSender

STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
MEDIA_HEADER_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
# Rejection reasons Meta names in the status webhook; NONE for every other event.
REJECTION_REASONS = (
    "NONE",
    "ABUSIVE_CONTENT",
    "INCORRECT_CATEGORY",
    "INVALID_FORMAT",
    "SCAM",
    "PROMOTIONAL",
    "TAG_CONTENT_MISMATCH",
)

NAME_MAX = 512
BODY_TEXT_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
BUTTON_TEXT_MAX = 25
BUTTONS_MAX = 10
URL_MAX = 2000
LIST_LIMIT_DEFAULT = 25
LIST_LIMIT_MAX = 1000
# Meta's limit of templates per WhatsApp Business Account (unverified businesses: 250).
TEMPLATE_LIMIT = 250

_NAME = re.compile(r"[a-z0-9_]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:_[A-Za-z]{2,4})?")
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_NAMED_PARAMETER = re.compile(r"[a-z_][a-z0-9_]*")
# Parameters that can fill a placeholder in text; the others are media or buttons.
_TEXT_PARAMETER_TYPES = ("text", "currency", "date_time")
_SEND_SUB_TYPES = {"QUICK_REPLY": "quick_reply", "URL": "url"}


@dataclass
class Button:
    """A button of a template: QUICK_REPLY, URL (maybe with a {{1}} suffix) or PHONE_NUMBER."""

    type: str
    text: str
    url: str | None = None
    phone_number: str | None = None

    @property
    def url_parameters(self) -> int:
        return 0 if self.url is None else len(_PLACEHOLDER.findall(self.url))


@dataclass
class Template:
    """One template in one language, as created."""

    id: str
    name: str
    language: str
    category: str
    parameter_format: str
    # The components as created (types in upper case), returned by GET like Meta does.
    components: list[dict[str, Any]]
    body: str
    body_parameters: list[str]
    header_format: str | None = None
    header_text: str | None = None
    header_parameters: list[str] = field(default_factory=list)
    footer: str | None = None
    buttons: list[Button] = field(default_factory=list)
    status: str = "PENDING"
    reason: str = "NONE"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "parameter_format": self.parameter_format,
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        }


@dataclass(frozen=True)
class RenderedTemplate:
    """A template send as the chat keeps it (see ``ChatMessage.template``)."""

    template: Template
    chat: dict[str, Any]

    @property
    def text(self) -> str:
        body: str = self.chat["body"]
        return body


class TemplateRegistry:
    """The templates of the emulated WhatsApp Business Account."""

    def __init__(
        self,
        config: Callable[[], EmulatorConfig],
        webhooks: WebhookSender,
        now: Callable[[], float] = time.time,
    ) -> None:
        # The emulator's configuration may be patched at run time, so it is read when used.
        self._config = config
        self._webhooks = webhooks
        self._now = now
        self._templates: dict[tuple[str, str], Template] = {}
        self._add(_hello_world())

    def all(self) -> list[Template]:
        return list(self._templates.values())

    def find(self, name: str, language: str) -> Template | None:
        return self._templates.get((name, language))

    def by_id(self, template_id: str) -> Template | None:
        for template in self._templates.values():
            if template.id == template_id:
                return template
        return None

    def create(self, body: object) -> Template:
        """Check a creation request like Meta and store the template.

        Raises GraphError for a malformed request or a name that exists in the language.
        """
        template = parse_definition(body)
        if (template.name, template.language) in self._templates:
            raise errors.template_already_exists(template.name, template.language)
        if len(self._templates) >= TEMPLATE_LIMIT:
            raise errors.invalid_parameter(
                f"This WhatsApp Business Account already has {TEMPLATE_LIMIT} message templates"
            )
        self._add(template)
        if self._config().auto_approve_templates:
            self.set_status(template, "APPROVED")
        return template

    def delete(self, name: str, template_id: str | None) -> list[Template]:
        """Remove the template ``name`` in every language, or only the one with this id."""
        doomed = [
            template
            for template in self._templates.values()
            if template.name == name and template_id in (None, template.id)
        ]
        for template in doomed:
            del self._templates[(template.name, template.language)]
        return doomed

    def set_status(self, template: Template, status: str, reason: str = "NONE") -> bool:
        """Change the review status; a change sends Meta's status webhook. False: no change."""
        if status not in STATUSES:
            raise ValueError(f"unknown template status {status!r}")
        if template.status == status:
            return False
        template.status = status
        template.reason = reason
        body = status_update_body(self._config(), template, int(self._now()))
        self._webhooks.send(
            WebhookEvent(kind="template", detail=status, message_id=template.id, body=body)
        )
        return True

    def render(
        self, send: TemplateSend, media_type: Callable[[str], str | None]
    ) -> RenderedTemplate:
        """The approved template a send names, with its placeholders filled.

        ``media_type`` gives the MIME type of an uploaded media id, or None if there is none.
        Raises 132001 for a template that does not exist or is not approved in the language,
        132015/132016 for a paused or disabled one, 132000 when parameters are missing or too
        many, 132012 for a parameter of the wrong kind and 131009 for a button index or
        sub_type that does not match the template.
        """
        template = self.find(send.name, send.language)
        if template is None or template.status in ("PENDING", "REJECTED"):
            raise errors.template_not_found(send.name, send.language)
        if template.status == "PAUSED":
            raise errors.template_paused(send.name, send.language)
        if template.status == "DISABLED":
            raise errors.template_disabled(send.name, send.language)
        return RenderedTemplate(template, _render(template, send, media_type))

    def _add(self, template: Template) -> None:
        self._templates[(template.name, template.language)] = template

    def list_answer(self, query: dict[str, str], page_url: str) -> dict[str, Any]:
        """The answer to ``GET .../message_templates`` with Meta's filters and paging."""
        return _list_answer(self.all(), query, page_url)


def status_update_body(config: EmulatorConfig, template: Template, timestamp: int) -> bytes:
    """The ``message_template_status_update`` webhook, as in pywa's fixtures."""
    value: dict[str, Any] = {
        "event": template.status,
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
        "reason": template.reason,
        "message_template_category": template.category,
    }
    if template.status == "PAUSED":
        value["other_info"] = {
            "title": "FIRST_PAUSE",
            "description": "Your template has been paused for 3 hours because of low quality.",
        }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": config.business_account_id,
                "time": timestamp,
                "changes": [{"value": value, "field": "message_template_status_update"}],
            }
        ],
    }
    return encode_compact(payload)


def parse_definition(body: object) -> Template:
    """A template from a creation request, checked like Meta's template review form."""
    if not isinstance(body, dict):
        raise errors.invalid_parameter("The request body must be a JSON object")
    name = _string(body, "name", "name", NAME_MAX)
    if not _NAME.fullmatch(name):
        raise errors.invalid_parameter(
            "Param name may contain only lowercase letters, digits and underscores"
        )
    language = _string(body, "language", "language", None)
    if not _LANGUAGE.fullmatch(language):
        raise errors.invalid_parameter(
            f"Param language: '{language}' is not a language code like 'de' or 'en_US'"
        )
    category = _string(body, "category", "category", None).upper()
    if category not in CATEGORIES:
        raise errors.invalid_parameter(
            f"Param category must be one of {', '.join(CATEGORIES)}, not '{category}'"
        )
    parameter_format = body.get("parameter_format", "POSITIONAL")
    if not isinstance(parameter_format, str) or parameter_format.upper() not in PARAMETER_FORMATS:
        raise errors.invalid_parameter("Param parameter_format must be POSITIONAL or NAMED")
    parameter_format = parameter_format.upper()
    if "components" not in body:
        raise errors.missing_parameter("The parameter components is required.")
    components = body["components"]
    if not isinstance(components, list) or not components:
        raise errors.invalid_parameter("Param components must be a non-empty array")
    parts: dict[str, dict[str, Any]] = {}
    stored: list[dict[str, Any]] = []
    for index, component in enumerate(components):
        path = f"components[{index}]"
        if not isinstance(component, dict):
            raise errors.invalid_parameter(f"Param {path} must be an object")
        kind = _string(component, "type", f"{path}['type']", None).upper()
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            raise errors.invalid_parameter(
                f"Param {path}['type']: component '{kind}' is not supported by this emulator "
                "version; supported are HEADER, BODY, FOOTER and BUTTONS"
            )
        if kind in parts:
            raise errors.invalid_parameter(f"Param components has more than one {kind}")
        parts[kind] = component
        stored.append({**component, "type": kind})
    if "BODY" not in parts:
        raise errors.missing_parameter("The parameter components must contain a BODY.")
    index_of = {entry["type"]: index for index, entry in enumerate(stored)}

    body_path = f"components[{index_of['BODY']}]"
    body_text = _string(parts["BODY"], "text", f"{body_path}['text']", BODY_TEXT_MAX)
    body_parameters = _placeholders(body_text, parameter_format, f"{body_path}['text']")
    _check_examples(parts["BODY"], body_parameters, parameter_format, "body", body_path)

    template = Template(
        id=_new_id(),
        name=name,
        language=language,
        category=category,
        parameter_format=parameter_format,
        components=stored,
        body=body_text,
        body_parameters=body_parameters,
    )
    if "HEADER" in parts:
        _parse_header(template, parts["HEADER"], f"components[{index_of['HEADER']}]")
    if "FOOTER" in parts:
        path = f"components[{index_of['FOOTER']}]"
        footer = _string(parts["FOOTER"], "text", f"{path}['text']", FOOTER_TEXT_MAX)
        if _PLACEHOLDER.search(footer):
            raise errors.invalid_parameter(f"Param {path}['text'] cannot have variables")
        template.footer = footer
    if "BUTTONS" in parts:
        template.buttons = _parse_buttons(parts["BUTTONS"], f"components[{index_of['BUTTONS']}]")
    return template


def _parse_header(template: Template, header: dict[str, Any], path: str) -> None:
    header_format = _string(header, "format", f"{path}['format']", None).upper()
    if header_format not in HEADER_FORMATS:
        raise errors.invalid_parameter(
            f"Param {path}['format'] must be one of {', '.join(HEADER_FORMATS)}"
        )
    template.header_format = header_format
    if header_format != "TEXT":
        return
    text = _string(header, "text", f"{path}['text']", HEADER_TEXT_MAX)
    parameters = _placeholders(text, template.parameter_format, f"{path}['text']")
    if len(parameters) > 1:
        raise errors.invalid_parameter(f"Param {path}['text'] can have at most one variable")
    _check_examples(header, parameters, template.parameter_format, "header", path)
    template.header_text = text
    template.header_parameters = parameters


def _parse_buttons(component: dict[str, Any], path: str) -> list[Button]:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
        raise errors.invalid_parameter(
            f"Param {path}['buttons'] must be an array of 1 to {BUTTONS_MAX} buttons"
        )
    parsed: list[Button] = []
    for index, button in enumerate(buttons):
        button_path = f"{path}['buttons'][{index}]"
        if not isinstance(button, dict):
            raise errors.invalid_parameter(f"Param {button_path} must be an object")
        kind = _string(button, "type", f"{button_path}['type']", None).upper()
        text = _string(button, "text", f"{button_path}['text']", BUTTON_TEXT_MAX)
        if kind == "QUICK_REPLY":
            parsed.append(Button(type=kind, text=text))
        elif kind == "URL":
            url = _string(button, "url", f"{button_path}['url']", URL_MAX)
            parts = urlsplit(url.replace("{{1}}", "x"))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise errors.invalid_parameter(f"Param {button_path}['url'] must be an http(s) URL")
            if len(_PLACEHOLDER.findall(url)) > 1 or (
                _PLACEHOLDER.search(url) and not url.endswith("{{1}}")
            ):
                raise errors.invalid_parameter(
                    f"Param {button_path}['url'] may only end with one variable {{{{1}}}}"
                )
            parsed.append(Button(type=kind, text=text, url=url))
        elif kind == "PHONE_NUMBER":
            phone = _string(button, "phone_number", f"{button_path}['phone_number']", 20)
            parsed.append(Button(type=kind, text=text, phone_number=phone))
        else:
            raise errors.invalid_parameter(
                f"Param {button_path}['type']: button type '{kind}' is not supported by this "
                "emulator version; supported are QUICK_REPLY, URL and PHONE_NUMBER"
            )
    texts = [button.text for button in parsed]
    if len(set(texts)) != len(texts):
        raise errors.invalid_parameter(f"Param {path}['buttons'] has two buttons with one text")
    return parsed


def _placeholders(text: str, parameter_format: str, path: str) -> list[str]:
    """The parameters a text needs, in order: "1", "2", ... or the names of NAMED ones."""
    found: list[str] = []
    for raw in _PLACEHOLDER.findall(text):
        if raw not in found:
            found.append(raw)
    if parameter_format == "NAMED":
        for name in found:
            if not _NAMED_PARAMETER.fullmatch(name):
                raise errors.invalid_parameter(
                    f"Param {path}: '{{{{{name}}}}}' is not a named variable (lowercase letters, "
                    "digits and underscores)"
                )
        return found
    numbers = sorted(found, key=lambda raw: int(raw) if raw.isdigit() else -1)
    if numbers != [str(number) for number in range(1, len(found) + 1)]:
        raise errors.invalid_parameter(
            f"Param {path}: variables must be {{{{1}}}}, {{{{2}}}}, ... without gaps "
            "(use parameter_format NAMED for named variables)"
        )
    return [str(number) for number in range(1, len(found) + 1)]


def _check_examples(
    component: dict[str, Any], parameters: list[str], parameter_format: str, part: str, path: str
) -> None:
    """Meta's review needs an example value for every variable."""
    if not parameters:
        return
    example = component.get("example")
    if not isinstance(example, dict):
        raise errors.missing_parameter(
            f"The parameter {path}['example'] is required when the text has variables."
        )
    if parameter_format == "NAMED":
        key = f"{part}_text_named_params"
        given = example.get(key)
        names = (
            [entry.get("param_name") for entry in given if isinstance(entry, dict)]
            if isinstance(given, list)
            else []
        )
        if sorted(str(name) for name in names) != sorted(parameters):
            raise errors.invalid_parameter(
                f"Param {path}['example']['{key}'] must give an example for each of "
                f"{', '.join(parameters)}"
            )
        return
    key = f"{part}_text"
    given = example.get(key)
    # body_text is a list of lists (one list per example set), header_text a flat list.
    values = given[0] if part == "body" and isinstance(given, list) and given else given
    if not isinstance(values, list) or len(values) != len(parameters):
        raise errors.invalid_parameter(
            f"Param {path}['example']['{key}'] must give {len(parameters)} example value(s)"
        )


def _render(
    template: Template, send: TemplateSend, media_type: Callable[[str], str | None]
) -> dict[str, Any]:
    header: TemplateComponentSend | None = None
    body: TemplateComponentSend | None = None
    buttons: dict[int, TemplateComponentSend] = {}
    for component in send.components:
        if component.type == "header":
            header = component
        elif component.type == "body":
            body = component
        elif component.index is not None:
            buttons[component.index] = component
    chat: dict[str, Any] = {
        "name": template.name,
        "language": template.language,
        "category": template.category,
    }
    rendered_header = _render_header(template, header, media_type)
    if rendered_header is not None:
        chat["header"] = rendered_header
    chat["body"] = _fill(template, template.body, template.body_parameters, body, "body")
    if template.footer is not None:
        chat["footer"] = template.footer
    chat["buttons"] = _render_buttons(template, buttons)
    return chat


def _render_header(
    template: Template,
    sent: TemplateComponentSend | None,
    media_type: Callable[[str], str | None],
) -> dict[str, Any] | None:
    header_format = template.header_format
    if header_format is None:
        if sent is not None and sent.parameters:
            raise errors.template_param_mismatch(
                f"header: number of params ({len(sent.parameters)}) does not match the "
                "expected number of params (0): the template has no header"
            )
        return None
    if header_format == "TEXT":
        assert template.header_text is not None
        text = _fill(template, template.header_text, template.header_parameters, sent, "header")
        return {"format": "TEXT", "text": text}
    given = [] if sent is None else list(sent.parameters)
    if len(given) != 1:
        raise errors.template_param_mismatch(
            f"header: number of params ({len(given)}) does not match the expected number of "
            f"params (1): the template has a {header_format} header"
        )
    parameter = given[0]
    expected = header_format.lower()
    if parameter.type != expected:
        raise _format_mismatch(
            f"header: the template has a {header_format} header, the parameter is "
            f"'{parameter.type}'"
        )
    if parameter.location is not None:
        return {"format": header_format, "location": parameter.location}
    assert parameter.media is not None
    media = dict(parameter.media)
    if "id" in media:
        mime = media_type(media["id"])
        if mime is None:
            assert sent is not None
            raise errors.invalid_value(
                f"Param {sent.path}['parameters'][0]['{expected}']['id']: no uploaded media "
                f"has the ID '{media['id']}'"
            )
        media["mime_type"] = mime
    return {"format": header_format, "media": media}


def _fill(
    template: Template,
    text: str,
    placeholders: list[str],
    sent: TemplateComponentSend | None,
    part: str,
) -> str:
    given = [] if sent is None else list(sent.parameters)
    if len(given) != len(placeholders):
        raise errors.template_param_mismatch(
            f"{part}: number of localizable_params ({len(given)}) does not match the expected "
            f"number of params ({len(placeholders)})"
        )
    for parameter in given:
        if parameter.type not in _TEXT_PARAMETER_TYPES:
            raise _format_mismatch(
                f"{part}: parameter type '{parameter.type}' cannot fill a text variable"
            )
    values: dict[str, str] = {}
    if template.parameter_format == "NAMED":
        for parameter in given:
            if parameter.name is None:
                raise errors.template_param_mismatch(
                    f"{part}: every parameter needs a parameter_name, the template uses named "
                    f"variables ({', '.join(placeholders)})"
                )
            if parameter.name not in placeholders:
                raise errors.template_param_mismatch(
                    f"{part}: the template has no variable named '{parameter.name}'"
                )
            values[parameter.name] = _text_of(parameter)
        if len(values) != len(placeholders):
            raise errors.template_param_mismatch(
                f"{part}: each of {', '.join(placeholders)} needs exactly one parameter"
            )
    else:
        values = {
            placeholder: _text_of(parameter)
            for placeholder, parameter in zip(placeholders, given, strict=True)
        }
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def _render_buttons(
    template: Template, sent: dict[int, TemplateComponentSend]
) -> list[dict[str, Any]]:
    for index, component in sent.items():
        if index >= len(template.buttons):
            raise errors.invalid_value(
                f"Param {component.path}['index']: the template has no button at index {index}"
            )
        button = template.buttons[index]
        expected = _SEND_SUB_TYPES.get(button.type)
        if component.sub_type != expected:
            raise errors.invalid_value(
                f"Param {component.path}['sub_type']: the button at index {index} is a "
                f"{button.type} button, not '{component.sub_type}'"
            )
    rendered: list[dict[str, Any]] = []
    for index, button in enumerate(template.buttons):
        tapped = sent.get(index)
        given = [] if tapped is None else list(tapped.parameters)
        entry: dict[str, Any] = {"type": button.type.lower(), "index": str(index)}
        entry["text"] = button.text
        if button.type == "QUICK_REPLY":
            if len(given) > 1:
                raise errors.template_param_mismatch(
                    f"button at index {index}: number of params ({len(given)}) does not match "
                    "the expected number of params (1 payload)"
                )
            if given and given[0].type != "payload":
                raise _format_mismatch(
                    f"button at index {index}: a quick-reply button takes a 'payload' "
                    f"parameter, not '{given[0].type}'"
                )
            # Without a payload, the tap comes back with the button text as payload.
            entry["payload"] = given[0].text if given else button.text
        elif button.type == "URL":
            assert button.url is not None
            if len(given) != button.url_parameters:
                raise errors.template_param_mismatch(
                    f"button at index {index}: number of params ({len(given)}) does not match "
                    f"the expected number of params ({button.url_parameters})"
                )
            if given and given[0].type != "text":
                raise _format_mismatch(
                    f"button at index {index}: a URL button takes a 'text' parameter"
                )
            entry["url"] = button.url.replace("{{1}}", given[0].text or "") if given else button.url
        elif button.type == "PHONE_NUMBER":
            entry["phone_number"] = button.phone_number
        rendered.append(entry)
    return rendered


def _text_of(parameter: TemplateParameter) -> str:
    assert parameter.text is not None
    return parameter.text


def _format_mismatch(details: str) -> errors.GraphError:
    return errors.GraphError(
        http_status=400,
        code=132012,
        message="(#132012) Parameter format does not match format in the created template",
        details=details,
    )


def _list_answer(
    templates: Iterable[Template], query: dict[str, str], page_url: str
) -> dict[str, Any]:
    selected = list(templates)
    name = query.get("name")
    if name:
        selected = [template for template in selected if name in template.name]
    for key in ("status", "category", "language"):
        wanted = query.get(key)
        if wanted:
            allowed = {value.strip() for value in wanted.split(",")}
            if key != "language":
                allowed = {value.upper() for value in allowed}
            selected = [t for t in selected if getattr(t, key) in allowed]
    total = len(selected)
    try:
        limit = int(query.get("limit", LIST_LIMIT_DEFAULT))
        start = _cursor(query.get("after"), 1) or 0
        if "before" in query:
            end = _cursor(query["before"], 0) or 0
            start = max(0, end - limit)
    except ValueError:
        raise errors.invalid_parameter("Params limit, after and before must be valid") from None
    limit = max(1, min(limit, LIST_LIMIT_MAX))
    page = selected[start : start + limit]
    answer: dict[str, Any] = {"data": [template.to_json() for template in page]}
    paging: dict[str, Any] = {}
    if page:
        paging["cursors"] = {
            "before": _encode_cursor(start),
            "after": _encode_cursor(start + len(page) - 1),
        }
        if start + len(page) < total:
            paging["next"] = (
                f"{page_url}?limit={limit}&after={_encode_cursor(start + len(page) - 1)}"
            )
        if start > 0:
            paging["previous"] = f"{page_url}?limit={limit}&before={_encode_cursor(start)}"
    answer["paging"] = paging
    if "summary" in query:
        answer["summary"] = {
            "total_count": total,
            "message_template_count": total,
            "message_template_limit": TEMPLATE_LIMIT,
            "are_translations_complete": True,
        }
    return answer


def _encode_cursor(position: int) -> str:
    return f"c{position}"


def _cursor(raw: str | None, step: int) -> int | None:
    """The list position after (step 1) or at (step 0) a cursor."""
    if raw is None:
        return None
    if not (raw.startswith("c") and raw[1:].isdigit()):
        raise ValueError(raw)
    return int(raw[1:]) + step


def _string(parent: dict[str, Any], key: str, path: str, max_length: int | None) -> str:
    if key not in parent:
        raise errors.missing_parameter(f"The parameter {path} is required.")
    value = parent[key]
    if not isinstance(value, str) or not value.strip():
        raise errors.invalid_parameter(f"Param {path} must be a non-empty string")
    if max_length is not None and len(value) > max_length:
        raise errors.invalid_parameter(f"Param {path} must be at most {max_length} characters long")
    return value


def _new_id() -> str:
    """A numeric id like Meta's template ids."""
    return str(10**15 + secrets.randbelow(9 * 10**15))


def _hello_world() -> Template:
    """The sample template Meta puts into every new WhatsApp Business Account."""
    header = "Hello World"
    body = (
        "Welcome and congratulations!! This message demonstrates your ability to send a "
        "WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for "
        "taking the time to test with us."
    )
    footer = "WhatsApp Business Platform sample message"
    return Template(
        id=_new_id(),
        name="hello_world",
        language="en_US",
        # Meta's own list example shows it recategorised as MARKETING.
        category="MARKETING",
        parameter_format="POSITIONAL",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": header},
            {"type": "BODY", "text": body},
            {"type": "FOOTER", "text": footer},
        ],
        body=body,
        body_parameters=[],
        header_format="TEXT",
        header_text=header,
        footer=footer,
        status="APPROVED",
    )
