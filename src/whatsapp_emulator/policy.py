"""Meta's messaging policy per simulated user: what happens to a send the API accepted.

Most policy failures are asynchronous (contract 0.2 and 1.7): the send gets HTTP 200 and a
wamid, and the problem arrives later as a ``failed`` status whose ``errors[]`` have the shape of
pywa's ``message_status.json#failed``. Only the pair rate limit answers synchronously (131056,
contract 1.7 and 3.3), like the per-number throughput (130429).

When a send is accepted, :meth:`Policy.decide` checks, in this order:

1. the number has no WhatsApp, or the user blocked the business → 131026 (contract 1.7);
2. a free-form (non-template) message while the user's 24-hour customer service window is
   closed → 131047 (contract 3.4);
3. a marketing template to a user who stopped marketing messages → 131050 (contract 2.6,
   3.6); utility, authentication and free-form messages are unaffected;
4. a template outside the window to a new unique user once the business has reached its
   messaging limit of unique users per rolling 24 hours → 131048 (see ``SPAM_RATE_LIMIT``);
5. a marketing template to a user who got ``marketing_cap`` of them in the rolling 24 hours,
   or whom a test marked as capped → 131049 (contract 3.7).

It also prices the message in the per-message-pricing shape (contract 2.5, 3.5): free-form
messages are ``service`` and free inside the window; templates are billed in their category,
except utility templates inside an open window, which are free.

Every time here comes from the emulator's :class:`~whatsapp_emulator.clock.Clock`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from whatsapp_emulator.clock import Clock
from whatsapp_emulator.config import EmulatorConfig
from whatsapp_emulator.errors import GraphError
from whatsapp_emulator.state import ChatMessage, User
from whatsapp_emulator.throughput import TokenBucket

DAY = 86400.0
ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

MARKETING = "marketing"
UTILITY = "utility"
AUTHENTICATION = "authentication"
SERVICE = "service"
CATEGORIES = (MARKETING, UTILITY, AUTHENTICATION, SERVICE)

# Settable per user through ``POST /_emulator/users/{wa_id}/properties``.
USER_PROPERTIES = ("on_whatsapp", "blocked", "marketing_stopped", "marketing_cap_reached")


@dataclass(frozen=True, slots=True)
class AsyncError:
    """An error of a ``failed`` status, as in ``statuses[].errors[]``."""

    code: int
    title: str
    details: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "message": self.title,
            "error_data": {"details": self.details},
            "href": ERROR_HREF,
        }


# Title and details of a real 131026 status (contract 1.7, restfb#1344).
UNDELIVERABLE = AsyncError(
    131026, "Receiver is incapable of receiving this message", "Message Undeliverable."
)
RE_ENGAGEMENT = AsyncError(
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number.",
)
# Meta has no dedicated code for reaching the messaging limit (contract 3.2: "There is no
# dedicated error code for hitting the messaging limit"; 131064 is only for limits imposed
# after template classification violations). The emulator uses 131048 "Spam rate limit hit",
# Meta's code for "restrictions on how many messages can be sent from this phone number"
# (contract 1.7), asynchronously, as the contract's checklist (7.6) suggests. The details say
# what really happened so a developer is not sent hunting for spam reports.
SPAM_RATE_LIMIT_TITLE = "Spam rate limit hit"
MARKETING_CAPPED = AsyncError(
    131049,
    "This message was not delivered to maintain healthy ecosystem engagement.",
    "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
)
MARKETING_STOPPED = AsyncError(
    131050,
    "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
    "messages on WhatsApp from your business.",
    "The user stopped marketing messages from this business.",
)


def spam_rate_limit(limit: int) -> AsyncError:
    return AsyncError(
        131048,
        SPAM_RATE_LIMIT_TITLE,
        "Message failed to send because there are restrictions on how many messages can be "
        f"sent from this phone number: the messaging limit of {limit} unique users outside a "
        "customer service window in 24 hours is reached.",
    )


def pair_rate_limit_hit() -> GraphError:
    """The synchronous answer to too many messages to one user (contract 1.7, 3.3)."""
    return GraphError(
        http_status=400,
        code=131056,
        message="(#131056) (Business Account, Consumer Account) pair rate limit hit",
        details=(
            "Message failed to send because there were too many messages sent from this phone "
            "number to the same phone number in a short period of time."
        ),
    )


def category_of(message: ChatMessage) -> str:
    """The pricing category of an outgoing message: its template's category, else service.

    ``Emulator.accept`` records ``pricing_category``; a message without one (built by hand)
    of type ``template`` counts as marketing (Meta's category for anything that is neither
    utility nor authentication, contract 3.5), anything else as a free-form service message.
    """
    category = message.pricing_category
    if category is not None and category.lower() in CATEGORIES:
        return category.lower()
    return MARKETING if message.type == "template" else SERVICE


def pricing(category: str, in_window: bool) -> dict[str, Any]:
    """The ``pricing`` object of a status (PMP since 2025-07-01, contract 2.5 and 3.5)."""
    free = category == SERVICE or (category == UTILITY and in_window)
    return {
        "billable": not free,
        "pricing_model": "PMP",
        "type": "free_customer_service" if free else "regular",
        "category": category,
    }


@dataclass(frozen=True, slots=True)
class Decision:
    error: AsyncError | None
    # None for failed messages: Meta's failed statuses carry no pricing.
    pricing: dict[str, Any] | None


class Policy:
    def __init__(self, config: EmulatorConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._pairs: dict[str, TokenBucket] = {}
        # Users reached outside a window: wa_id → clock time of the latest such message, and
        # the same in time order (with stale duplicates) to expire them after 24 hours.
        self._reached: dict[str, float] = {}
        self._reached_order: deque[tuple[float, str]] = deque()

    def reconfigure(self, config: EmulatorConfig) -> None:
        old = self._config
        self._config = config
        if (old.pair_rate_burst, old.pair_rate_interval) != (
            config.pair_rate_burst,
            config.pair_rate_interval,
        ):
            self._pairs.clear()

    def reset(self) -> None:
        self._pairs.clear()
        self._reached.clear()
        self._reached_order.clear()

    # --- synchronous: the pair rate limit ------------------------------------------------

    def admit(self, wa_id: str) -> None:
        """Count one send to ``wa_id``; raises 131056 when the pair's bucket is empty."""
        burst = self._config.pair_rate_burst
        if burst == 0:
            return
        bucket = self._pairs.get(wa_id)
        if bucket is None:
            bucket = TokenBucket(
                1.0 / self._config.pair_rate_interval,
                clock=self._clock.monotonic,
                capacity=burst,
            )
            self._pairs[wa_id] = bucket
        if not bucket.try_take():
            raise pair_rate_limit_hit()

    # --- asynchronous: what becomes of an accepted send ----------------------------------

    def window_open(self, user: User, now: float | None = None) -> bool:
        window = self._config.service_window
        if window == 0:
            return True
        if user.last_inbound_at is None:
            return False
        now = self._clock.time() if now is None else now
        return now - user.last_inbound_at < window

    def window_closes_at(self, user: User) -> float | None:
        if self._config.service_window == 0 or user.last_inbound_at is None:
            return None
        return user.last_inbound_at + self._config.service_window

    def decide(self, user: User, message: ChatMessage) -> Decision:
        """Decide the fate and the price of an accepted send, and count it where it counts."""
        now = self._clock.time()
        category = category_of(message)
        template = category != SERVICE
        in_window = self.window_open(user, now)
        error: AsyncError | None = None
        if not user.on_whatsapp or user.blocked:
            error = UNDELIVERABLE
        elif not template and not in_window:
            error = RE_ENGAGEMENT
        elif category == MARKETING and user.marketing_stopped:
            error = MARKETING_STOPPED
        elif template and not in_window and not self._may_reach(user.wa_id, now):
            error = spam_rate_limit(self._config.messaging_limit)
        elif category == MARKETING and self._marketing_capped(user, now):
            error = MARKETING_CAPPED
        if error is not None:
            return Decision(error=error, pricing=None)
        if template and not in_window:
            self._reach(user.wa_id, now)
        if category == MARKETING:
            self._expire_marketing(user, now)
            user.marketing_received.append(now)
        return Decision(error=None, pricing=pricing(category, in_window))

    def marketing_received_today(self, user: User) -> int:
        self._expire_marketing(user, self._clock.time())
        return len(user.marketing_received)

    def reached_today(self) -> int:
        """Unique users reached outside a window in the rolling 24 hours."""
        self._expire_reached(self._clock.time())
        return len(self._reached)

    def user_json(self, user: User) -> dict[str, Any]:
        closes_at = self.window_closes_at(user)
        return {
            "wa_id": user.wa_id,
            **{name: getattr(user, name) for name in USER_PROPERTIES},
            "last_inbound_at": user.last_inbound_at,
            "window_open": self.window_open(user),
            "window_closes_at": closes_at,
            "marketing_received_24h": self.marketing_received_today(user),
        }

    def _may_reach(self, wa_id: str, now: float) -> bool:
        limit = self._config.messaging_limit
        if limit == 0:
            return True
        self._expire_reached(now)
        return wa_id in self._reached or len(self._reached) < limit

    def _reach(self, wa_id: str, now: float) -> None:
        self._reached[wa_id] = now
        self._reached_order.append((now, wa_id))

    def _expire_reached(self, now: float) -> None:
        order = self._reached_order
        while order and now - order[0][0] >= DAY:
            at, wa_id = order.popleft()
            if self._reached.get(wa_id) == at:
                del self._reached[wa_id]

    def _marketing_capped(self, user: User, now: float) -> bool:
        if user.marketing_cap_reached:
            return True
        cap = self._config.marketing_cap
        if cap == 0:
            return False
        self._expire_marketing(user, now)
        return len(user.marketing_received) >= cap

    @staticmethod
    def _expire_marketing(user: User, now: float) -> None:
        received = user.marketing_received
        while received and now - received[0] >= DAY:
            received.popleft()
