"""Opening balances (finance): unpaid invoices of the council's previous system, uploaded as a
CSV file, previewed row by row, then recorded as brought-forward documents, all or none."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from werkzeug.wrappers import Response

from traded_app.access import roles_required
from traded_app.domain.types import Role
from traded_app.formatting import pounds
from traded_app.services.documents import brought_forward
from traded_app.services.platform import csv_upload
from traded_app.views.csv_imports import CsvImportPages

bp = Blueprint("opening_balances", __name__, url_prefix="/finance/opening-balances")

FINANCE_ONLY = frozenset({Role.LA_FINANCE})


OPENING_BALANCES = CsvImportPages(
    brought_forward,
    upload_template="finance/opening_balances_upload.html",
    upload_endpoint="opening_balances.upload",
    preview_template="finance/opening_balances_preview.html",
    preview_endpoint="opening_balances.preview",
    discarded="The file was discarded: nothing was recorded.",
    refusals=(csv_upload.CsvImportStateError, brought_forward.OpeningBalanceError),
)


@bp.route("", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def upload() -> str | Response:
    return OPENING_BALANCES.upload()


def _brought_forward(documents: list[brought_forward.Document]) -> str:
    total = sum(d.gross_pence for d in documents)
    return (
        f"{len(documents)} unpaid invoices brought forward, {pounds(total)} in all. "
        "They are in the register and aged debt."
    )


def _checked(record: brought_forward.CsvImport) -> dict[str, Any]:
    return {"checked": brought_forward.check(csv_upload.rows_of(record))}


@bp.route("/<int:import_id>", methods=["GET", "POST"])
@roles_required(FINANCE_ONLY)
def preview(import_id: int) -> str | Response:
    return OPENING_BALANCES.preview(import_id, _brought_forward, _checked)


@bp.route("/<int:import_id>/discard", methods=["POST"])
@roles_required(FINANCE_ONLY)
def discard(import_id: int) -> Response:
    return OPENING_BALANCES.discard(import_id)
