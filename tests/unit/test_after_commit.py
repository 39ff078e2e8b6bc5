"""The one after-commit queue: work runs after the real commit, in the order queued; a rollback
drops it; savepoints neither run it nor drop the outer transaction's; `suppressed` queues
nothing; and a failing piece of work is logged without stopping the rest or the commit."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from traded_app.extensions import db
from traded_app.services.platform.after_commit import after_commit, queued, suppressed


@pytest.fixture()
def done(app: Flask) -> list[Any]:
    return []


def _touch() -> None:
    """Begin a real database transaction (SQLAlchemy reports a rollback only when there is one)."""
    db.session.execute(text("SELECT 1"))


def test_work_runs_after_the_real_commit_in_the_order_queued(done: list[Any]) -> None:
    _touch()
    after_commit(db.session, done.append, "first")
    after_commit(db.session, done.append, "second")
    db.session.flush()
    assert done == []
    db.session.commit()
    assert done == ["first", "second"]
    db.session.commit()
    assert done == ["first", "second"]  # run once, not at every later commit


def test_a_rollback_drops_the_work(done: list[Any]) -> None:
    _touch()
    after_commit(db.session, done.append, "never")
    db.session.rollback()
    db.session.commit()
    assert done == [] and queued(db.session) == []


def test_releasing_a_savepoint_runs_nothing_until_the_outer_commit(done: list[Any]) -> None:
    _touch()
    after_commit(db.session, done.append, "outer")
    with db.session.begin_nested():
        after_commit(db.session, done.append, "inner")
    assert done == []
    db.session.commit()
    assert done == ["outer", "inner"]


def test_rolling_back_a_savepoint_keeps_the_outer_transactions_work(done: list[Any]) -> None:
    _touch()
    after_commit(db.session, done.append, "outer")
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    db.session.commit()
    assert done == ["outer"]


def test_a_savepoint_then_a_rollback_of_the_whole_runs_nothing(done: list[Any]) -> None:
    _touch()
    with db.session.begin_nested():
        after_commit(db.session, done.append, "inner")
    db.session.rollback()
    db.session.commit()
    assert done == []


def test_nothing_is_queued_while_suppressed(done: list[Any]) -> None:
    _touch()
    with suppressed(db.session):
        after_commit(db.session, done.append, "demo")
        with suppressed(db.session):
            pass
        after_commit(db.session, done.append, "still suppressed")
    after_commit(db.session, done.append, "after")
    db.session.commit()
    assert done == ["after"]


def test_failing_work_is_logged_and_the_rest_still_runs(
    done: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("mail server on fire")

    _touch()
    after_commit(db.session, broken)
    after_commit(db.session, done.append, "next")
    with caplog.at_level(logging.ERROR, logger="traded_app.services.platform.after_commit"):
        db.session.commit()
    assert done == ["next"]
    assert "mail server on fire" in caplog.text
