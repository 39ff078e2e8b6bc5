"""The one base for the errors services raise, and how a request learns it was refused.

A DomainError's message is for a person (GOV.UK style); `field`, when given, names the form field
it is about. Every service error derives from it.

A refusal that reaches the person undoes the request. When a DomainError raised by a service is
caught outside the services (a view shows it on the form, or flashes it and redirects), the
request's commit hook rolls back everything the request changed, whatever the status of the
response: views never roll back by hand. A service that catches its own DomainError and carries
on (it holds a card payment it cannot apply; it sends a document whose stored PDF is missing)
keeps its changes, because that error never left the services. The request watches (`watch`)
and asks at its end (`refused`); outside a request nothing is watched.

NotFound is a lookup's answer rather than a refusal: it does not roll back by itself, and one
that no view catches is answered with the 404 page (which rolls back like any error page).
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import ClassVar

SERVICE_PACKAGES = ("traded_app.services.", "traded_app.domain.")

_raised: ContextVar[list[DomainError] | None] = ContextVar("domain_errors_raised", default=None)


class DomainError(Exception):
    """A step the domain refuses; the message says why, for the person who asked."""

    # Whether this error, caught outside the services, undoes the request's changes.
    rolls_back: ClassVar[bool] = True

    def __init__(self, message: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        raised = _raised.get()
        if raised is not None:
            raised.append(self)


class NotFound(DomainError):
    """No such record, or not one this user may know exists (both answer 404)."""

    rolls_back = False


def watch() -> Token[list[DomainError] | None]:
    """Start noting the DomainErrors raised in this context (a request begins)."""
    return _raised.set([])


def stop_watching(token: Token[list[DomainError] | None]) -> None:
    _raised.reset(token)


def refused() -> bool:
    """Whether a DomainError that rolls back was raised by a service and caught outside the
    services since `watch` (the request must not keep its changes)."""
    return any(
        error.rolls_back and _caught_outside_services(error) for error in _raised.get() or []
    )


def _caught_outside_services(error: DomainError) -> bool:
    # An exception's traceback starts at the frame that caught it (or the outermost frame it
    # passed through, when nothing did) and runs to where it was raised.
    traceback = error.__traceback__
    if traceback is None:
        return False  # made but never raised
    module = str(traceback.tb_frame.f_globals.get("__name__", ""))
    return not module.startswith(SERVICE_PACKAGES)
