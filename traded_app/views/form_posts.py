"""What views share when a form is posted: a button-only action (an empty form, for its CSRF
token) done with its outcome flashed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import flash

from traded_app.forms.auth import EmptyForm

T = TypeVar("T")

Refusals = type[Exception] | tuple[type[Exception], ...]


def button_action(
    action: Callable[[], T],
    done: str | Callable[[T], str],
    refusals: Refusals,
    *,
    refused_as: str = "info",
) -> None:
    """A button's POST: when its empty form validates, `flash_outcome` of `action`. The caller
    redirects either way."""
    if EmptyForm().validate_on_submit():
        flash_outcome(action, done, refusals, refused_as=refused_as)


def flash_outcome(
    action: Callable[[], T],
    done: str | Callable[[T], str],
    refusals: Refusals,
    *,
    refused_as: str = "info",
) -> None:
    """Do `action` and flash `done` (a message, or one made from what the action returned) as a
    success; a refusal of the kinds named is flashed instead, as `refused_as`."""
    try:
        result = action()
    except refusals as error:
        flash(str(error), refused_as)
    else:
        flash(done(result) if callable(done) else done, "success")
