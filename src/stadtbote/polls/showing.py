"""What people see of a poll on the web: the chat message as the phone shows it (for the
newsroom's preview) and the results as a chart with a summary (for the newsroom and the
public archive). Aggregates only, as everywhere: nobody's vote."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from stadtbote.dashboards import charts
from stadtbote.lib.localise import percent
from stadtbote.polls import messages
from stadtbote.polls.models import Poll
from stadtbote.polls.results import Results


@dataclass(frozen=True)
class ChatPreview:
    """Below the bubble: up to three reply buttons, or the list's button and its rows."""

    buttons: list[str]
    menu_button: str
    rows: list[str]


def chat_preview(poll: Poll) -> ChatPreview:
    """The poll's choices as WhatsApp shows them inside the 24-hour window (messages.ask)."""
    asked = messages.ask(poll, list(poll.options.all()), poll.post.language or "de")
    if asked.menu is not None:
        return ChatPreview([], asked.menu.button, [row.title for row in asked.menu.rows])
    return ChatPreview([button.title for button in asked.buttons], "", [])


def summary(found: Results) -> str:
    """One sentence for the chart's description and for screen readers."""
    leader = found.leader
    if leader is None:
        return _("No votes yet.")
    return _("Most votes: %(answer)s with %(votes)s of %(voters)s voters (%(share)s).") % {
        "answer": leader.label,
        "votes": charts.number(leader.votes),
        "voters": charts.number(found.voters),
        "share": percent(leader.share),
    }


def chart(found: Results) -> SafeString:
    """Votes per answer as horizontal bars (the page puts the same numbers in a table)."""
    return charts.bars(
        [(option.label, option.votes) for option in found.options],
        title=_("Votes per answer"),
        description=summary(found),
    )
