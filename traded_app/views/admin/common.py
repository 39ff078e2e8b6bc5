"""The admin blueprint and what its pages share: reading query arguments, putting a service's
refusal on the form, and answering htmx with the fragment."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.web import is_htmx

bp = Blueprint("admin", __name__, url_prefix="/council/manage")

ADMIN = Role.LA_ADMIN


def int_arg(name: str) -> int | None:
    return whole_number(request.args.get(name))


def page_arg() -> int:
    return int_arg("page") or 1


def field_error(form: Any, field: str | None, message: str) -> None:
    target = getattr(form, field, None) if field else None
    if target is None:
        # Not a field of this form: show it against the first field, so the summary links.
        target = next(iter(f for f in form if f.name != "csrf_token"))
    target.errors = [*list(target.errors), message]


def fragment_or_page(fragment: str, page: str, **context: Any) -> str:
    return render_template(fragment if is_htmx() else page, **context)
