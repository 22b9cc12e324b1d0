"""Errors whose message is for people. The message stays English in `str()` (logs, the REST
API, tests); pages for staff show `localised(exc)`, in the reader's language. Messages are
marked with `gettext_noop` where they are raised, with their values as named parameters."""

from __future__ import annotations

from django.utils.translation import gettext


class Problem(Exception):
    def __init__(self, message: str, **params: object) -> None:
        self.message, self.params = message, params
        super().__init__(message % params if params else message)

    def translated(self) -> str:
        text = gettext(self.message)
        return text % self.params if self.params else text


def localised(exc: BaseException) -> str:
    return exc.translated() if isinstance(exc, Problem) else str(exc)
