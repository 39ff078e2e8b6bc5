"""What views share when a form is posted: a service's refusal put on the field it is about (so
the GOV.UK error summary links to it), and a button-only action (an empty form, for its CSRF
token) done with its outcome flashed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash

from traded_app.forms.auth import EmptyForm
from traded_app.services.platform.errors import DomainError

T = TypeVar("T")

Refusals = type[Exception] | tuple[type[Exception], ...]


def add_error(form: Any, field: str | None, message: str, fallback: str | None = None) -> None:
    """Show `message` against the form's `field`; when the form has no such field, against
    `fallback`, else its first field (never the CSRF token), so the summary links somewhere."""
    target = getattr(form, field, None) if field else None
    if target is None and fallback:
        target = getattr(form, fallback)
    if target is None:
        target = next(iter(f for f in form if f.name != "csrf_token"))
    target.errors = [*list(target.errors or []), message]


def refuse(form: Any, error: DomainError, fallback: str | None = None) -> None:
    """Show a service's refusal (a DomainError, whose `field` names the field it is about) on
    the form (see `add_error`)."""
    add_error(form, error.field, str(error), fallback)


def button_action(
    action: Callable[[], T],
    done: str | Callable[[T], str],
    refusals: Refusals,
    *,
    refused_as: str = "info",
) -> None:
    """A button's POST: when its empty form validates, do `action` and flash `done` (a message,
    or one made from what the action returned) as a success; a refusal of the kinds named is
    flashed instead, as `refused_as`. The caller redirects either way."""
    if not EmptyForm().validate_on_submit():
        return
    try:
        result = action()
    except refusals as error:
        flash(str(error), refused_as)
    else:
        flash(done(result) if callable(done) else done, "success")
