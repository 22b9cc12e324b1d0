"""Synchronous Graph API errors in the shape Meta answers with.

Clients are told by Meta to branch on ``code`` and ``error_data.details``, so every error the
WhatsApp part of the API raises carries both. The two token errors mirror plain Graph API
answers, which have no ``error_data``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from whatsapp_emulator.ids import new_fbtrace_id


class GraphError(Exception):
    """An error answer of the Graph API, raised while handling a request."""

    def __init__(
        self,
        *,
        http_status: int,
        code: int,
        message: str,
        details: str | None,
        error_type: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.details = details
        self.error_type = error_type

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.details is not None:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}

    def response(self) -> JSONResponse:
        fbtrace_id = new_fbtrace_id()
        return JSONResponse(
            self.body(fbtrace_id),
            status_code=self.http_status,
            headers={"x-fb-trace-id": fbtrace_id},
        )


def missing_access_token() -> GraphError:
    return GraphError(
        http_status=401,
        code=104,
        message="An access token is required to request this resource",
        details=None,
    )


def invalid_access_token() -> GraphError:
    return GraphError(http_status=401, code=190, message="Invalid OAuth access token", details=None)


def unknown_object(object_id: str) -> GraphError:
    return GraphError(
        http_status=400,
        code=100,
        message=(
            f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation"
        ),
        details=f"No phone number with ID '{object_id}' is registered in this emulator",
        error_type="GraphMethodException",
    )


def invalid_json(details: str) -> GraphError:
    return GraphError(
        http_status=400, code=100, message="Invalid JSON in request body", details=details
    )


def invalid_parameter(details: str) -> GraphError:
    return GraphError(
        http_status=400, code=100, message="(#100) Invalid parameter", details=details
    )


def missing_parameter(details: str) -> GraphError:
    return GraphError(
        http_status=400,
        code=131008,
        message="(#131008) Required parameter is missing",
        details=details,
    )


def invalid_value(details: str) -> GraphError:
    return GraphError(
        http_status=400,
        code=131009,
        message="(#131009) Parameter value is not valid",
        details=details,
    )


def recipient_is_sender() -> GraphError:
    return GraphError(
        http_status=400,
        code=131021,
        message="(#131021) Recipient cannot be sender",
        details="Sender and recipient phone number is the same.",
    )


def rate_limit_hit() -> GraphError:
    # Meta advises not to rely on the HTTP status; BSPs report 400 for 130429.
    return GraphError(
        http_status=400,
        code=130429,
        message="(#130429) Rate limit hit",
        details="Cloud API message throughput has been reached.",
    )
