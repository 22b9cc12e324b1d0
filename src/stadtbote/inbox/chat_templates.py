"""The two templates the inbox needs outside a citizen's 24-hour window, when WhatsApp allows
only pre-approved text: "an answer is waiting" and "news about your report". Both are utility
templates (about something the citizen started), so Meta charges them as such and a citizen who
stopped marketing messages still gets them.

The answer itself is not in the template: staff write freely, and Meta approves no free text.
The template asks the citizen to open the chat; their tap opens the window and the answer
follows (replying.release_held).
"""

from __future__ import annotations

from stadtbote.broadcasts.models import Template
from stadtbote.channels.types import OutboundMessage, TemplateUse

REPLY_WAITING = "stadt_antwort"
REPLY_WAITING_BODY = (
    "Die Stadt hat Ihnen auf Ihre Nachricht geantwortet. "
    "Tippen Sie auf Antwort anzeigen, um sie zu lesen."
)
REPLY_WAITING_BUTTON = "Antwort anzeigen"
SHOW_HELD = "inbox:show"  # the quick reply's payload

CONCERN_NEWS = "stadt_meldung"
CONCERN_NEWS_BODY = "Neues zu Ihrer Meldung {{1}}: {{2}}"

# name -> (body, quick-reply buttons)
TEMPLATES: dict[str, tuple[str, list[str]]] = {
    REPLY_WAITING: (REPLY_WAITING_BODY, [REPLY_WAITING_BUTTON]),
    CONCERN_NEWS: (CONCERN_NEWS_BODY, []),
}


def approved(name: str, language: str) -> Template | None:
    """The approved template in the citizen's language, else the German one, else None."""
    found = {
        t.language: t for t in Template.objects.filter(name=name, status=Template.Status.APPROVED)
    }
    return found.get(language) or found.get("de")


def reply_waiting(language: str) -> OutboundMessage | None:
    template = approved(REPLY_WAITING, language)
    if template is None:
        return None
    return OutboundMessage(
        text=template.body,
        template=TemplateUse(template.name, template.language, quick_replies=(SHOW_HELD,)),
    )


def concern_news(language: str, reference: str, news: str) -> OutboundMessage | None:
    template = approved(CONCERN_NEWS, language)
    if template is None:
        return None
    return OutboundMessage(
        text=template.body.replace("{{1}}", reference).replace("{{2}}", news),
        template=TemplateUse(template.name, template.language, parameters=(reference, news)),
    )
