"""The one immutability guard (services/platform/append_only): installed by create_app and
covering every table kept for good. Each table's own refusals are tested with its area
(test_invoicing, test_payments, test_audit)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.conftest import environ_for_tests
from traded_app import create_app
from traded_app.extensions import db
from traded_app.models import FinanceExport
from traded_app.models.finance import ExportKind
from traded_app.services.platform import append_only
from traded_app.services.platform.settings import today


def test_every_append_only_table_exists(app: Flask) -> None:
    assert set(append_only.RULES) <= set(db.metadata.tables)
    assert {"document", "document_line", "payment", "audit_event", "finance_export"} <= set(
        append_only.RULES
    )


def test_create_app_installs_the_guard(app: Flask, tmp_path: Path) -> None:
    event.remove(Session, "before_flush", append_only.refuse_changes)
    try:
        create_app(environ_for_tests(tmp_path, f"sqlite:///{tmp_path / 'other.db'}"))
    finally:
        assert event.contains(Session, "before_flush", append_only.refuse_changes)
        append_only.install()  # whatever happened, the other tests keep their guard


def test_an_export_record_may_be_updated_but_never_deleted(world: Any) -> None:
    export = FinanceExport(
        kind=ExportKind.SALES_CSV, date_from=today() - timedelta(days=7), date_to=today()
    )
    db.session.add(export)
    db.session.commit()
    export.row_count = 3
    db.session.flush()
    db.session.delete(export)
    with pytest.raises(append_only.ImmutablePaymentError, match="cannot be changed or deleted"):
        db.session.flush()
    db.session.rollback()
