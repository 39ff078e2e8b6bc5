"""What views share when a form is posted (views.form_posts): a service's refusal shown on the
field it is about, and a button's action done with its outcome flashed."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from traded_app.services.platform.errors import DomainError, NotFound
from traded_app.views.form_posts import add_error, button_action, refuse


class NameForm(FlaskForm):
    name = StringField("Name")
    reason = StringField("Reason")


@pytest.fixture()
def posted(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    with app.test_request_context("/", method="POST", data={"name": "x"}) as context:
        yield context


def test_a_refusal_goes_on_its_field_else_the_fallback_else_the_first_field(posted: Any) -> None:
    form = NameForm()
    refuse(form, DomainError("Enter a reason", "reason"), fallback="name")
    refuse(form, DomainError("Not this form's field", "colour"), fallback="reason")
    refuse(form, DomainError("About nothing in particular"))
    add_error(form, None, "Also this")
    assert form.reason.errors == ["Enter a reason", "Not this form's field"]
    assert form.name.errors == ["About nothing in particular", "Also this"]  # never csrf_token


def test_a_button_flashes_its_success_or_the_refusal_named(posted: Any) -> None:
    button_action(lambda: 3, "Done.", DomainError)
    button_action(lambda: 3, lambda n: f"{n} sent.", DomainError)

    def refused() -> None:
        raise DomainError("Already sent")

    button_action(refused, "Never shown", DomainError, refused_as="error")
    assert get_flashed_messages(with_categories=True) == [
        ("success", "Done."),
        ("success", "3 sent."),
        ("error", "Already sent"),
    ]


def test_a_refusal_not_named_is_not_swallowed(posted: Any) -> None:
    def missing() -> None:
        raise NotFound("No such record")

    with pytest.raises(NotFound):
        button_action(missing, "Never shown", (ValueError, KeyError))


def test_a_button_does_nothing_unless_its_form_is_posted(app: Flask) -> None:
    done: list[int] = []
    with app.test_request_context("/", method="GET"):
        button_action(lambda: done.append(1), "Done.", DomainError)
        assert done == [] and get_flashed_messages() == []
