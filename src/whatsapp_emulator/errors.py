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
        subcode: int | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message
        self.details = details
        self.error_type = error_type
        # Management endpoints (templates) still answer with these Graph API extras.
        self.subcode = subcode
        self.user_title = user_title
        self.user_msg = user_msg

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.user_title is not None:
            error["is_transient"] = False
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
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


def unknown_object(object_id: str, method: str = "post", details: str | None = None) -> GraphError:
    """Graph API's answer for an id that names nothing this token may use."""
    return GraphError(
        http_status=400,
        code=100,
        message=(
            f"Unsupported {method} request. Object with ID '{object_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation"
        ),
        details=details or f"No phone number with ID '{object_id}' is registered in this emulator",
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


def media_upload_error(details: str) -> GraphError:
    return GraphError(
        http_status=400, code=131053, message="(#131053) Media upload error", details=details
    )


def template_param_mismatch(details: str) -> GraphError:
    return GraphError(
        http_status=400,
        code=132000,
        message="(#132000) Number of parameters does not match the expected number of params",
        details=details,
    )


def template_not_found(name: str, language: str) -> GraphError:
    """No approved template with this name in this language (Meta's wording for both)."""
    return GraphError(
        http_status=400,
        code=132001,
        message="(#132001) Template name does not exist in the translation",
        details=f"template name ({name}) does not exist in {language}",
    )


def template_paused(name: str, language: str) -> GraphError:
    return GraphError(
        http_status=400,
        code=132015,
        message="(#132015) Template is Paused",
        details=f"Template {name} ({language}) is paused because of low quality",
    )


def template_disabled(name: str, language: str) -> GraphError:
    return GraphError(
        http_status=400,
        code=132016,
        message="(#132016) Template is disabled",
        details=f"Template {name} ({language}) is disabled because of low quality",
    )


def template_already_exists(name: str, language: str) -> GraphError:
    return GraphError(
        http_status=400,
        code=100,
        message="Invalid parameter",
        details=f"A template named {name} already exists in {language}",
        subcode=2388024,
        user_title="Message template already exists",
        user_msg=(
            f"There is already {language} content for this template. You can create a new "
            "template and try again."
        ),
    )
