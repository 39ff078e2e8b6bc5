"""The admin blueprint and what its pages share: reading query arguments, putting a service's
refusal on the form, and answering htmx with the fragment."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.views.form_posts import add_error
from traded_app.web import is_htmx

bp = Blueprint("admin", __name__, url_prefix="/council/manage")

ADMIN = Role.LA_ADMIN


def int_arg(name: str) -> int | None:
    return whole_number(request.args.get(name))


def page_arg() -> int:
    return int_arg("page") or 1


def field_error(form: Any, field: str | None, message: str) -> None:
    add_error(form, field, message)  # not a field of this form: against its first field


def fragment_or_page(fragment: str, page: str, **context: Any) -> str:
    return render_template(fragment if is_htmx() else page, **context)
