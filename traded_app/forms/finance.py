"""Finance's forms (payments, journals, reversals, reminders and their pauses, exports) with
GOV.UK messages, and the register's filters read from the query string."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea, GovTextInput
from wtforms import Field, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation

from traded_app.domain import pricing
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import DocumentType, ExportKind
from traded_app.forms.dates import GovDateField, required_date
from traded_app.services.finance.balances import DocumentStatus
from traded_app.services.finance.register import SORTS, RegisterFilters


class PoundsField(StringField):
    """Pounds typed by a person, read to whole pence (never a float), with GOV.UK messages."""

    pence: int | None = None

    def pre_validate(self, form: Any) -> None:
        self.pence = None
        try:
            self.pence = pricing.parse_pounds(self.data)
        except pricing.MoneyError as error:
            raise StopValidation(str(error).replace("Amount", self.label.text, 1)) from None
        if self.pence == 0:
            raise StopValidation(f"{self.label.text} must be more than £0")


class PaymentForm(FlaskForm):
    amount = PoundsField("Amount", widget=GovTextInput())
    received_on = GovDateField("Date received", validators=[required_date])
    reference = StringField(
        "Payment reference",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the payment reference"),
            Length(max=80, message="Payment reference must be 80 characters or fewer"),
        ],
    )
    note = TextAreaField(
        "Note (optional)",
        widget=GovTextArea(),
        validators=[Optional(), Length(max=500, message="Note must be 500 characters or fewer")],
    )


class ReverseForm(FlaskForm):
    reason = TextAreaField(
        "Why is the payment being reversed?",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter why the payment is being reversed"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )


class PauseRemindersForm(FlaskForm):
    reason = TextAreaField(
        "Why are reminders being paused?",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter why reminders are being paused"),
            Length(max=500, message="Reason must be 500 characters or fewer"),
        ],
    )


class ChooseDocumentsField(SelectMultipleField):
    """Checkboxes in a table's rows, one per document id offered."""

    unreadable = False  # a value sent that is not an id (not ASCII digits, or too long)

    def process_formdata(self, valuelist: list[str]) -> None:
        ids = [whole_number(value) for value in valuelist]
        self.data = [i for i in ids if i is not None]
        self.unreadable = None in ids

    def pre_validate(self, form: Any) -> None:
        offered = {value for value, _label in (self.choices or [])}  # type: ignore[misc]
        if self.unreadable or any(value not in offered for value in self.data or []):
            raise StopValidation("One of the documents chosen can no longer be chosen: try again")


class JournalForm(FlaskForm):
    documents = ChooseDocumentsField("Recharges to settle", coerce=int, validate_choice=False)
    reference = StringField(
        "Journal reference",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter the journal reference"),
            Length(max=80, message="Journal reference must be 80 characters or fewer"),
        ],
    )
    journal_date = GovDateField("Date of the journal", validators=[required_date])

    def validate_documents(self, field: Field) -> None:
        if not field.data:
            raise StopValidation("Select at least one recharge to settle")


class ReminderForm(FlaskForm):
    documents = ChooseDocumentsField("Invoices to remind", coerce=int, validate_choice=False)

    def validate_documents(self, field: Field) -> None:
        if not field.data:
            raise StopValidation("Select at least one overdue invoice to remind")


class ExportForm(FlaskForm):
    kind = RadioField(
        "What to export",
        widget=GovRadioInput(),
        choices=[(k.value, k.label) for k in ExportKind],
        validators=[InputRequired("Select what to export")],
    )
    date_from = GovDateField("Date to export from", validators=[required_date])
    date_to = GovDateField("Date to export to", validators=[required_date])
    reference = StringField(
        "Journal reference (optional)",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=80, message="Journal reference must be 80 characters or fewer"),
        ],
    )
    already_exported = RadioField(
        "Some of these documents were exported before",
        widget=GovRadioInput(),
        choices=[
            ("exclude", "Leave them out: export only documents not exported before"),
            ("include", "Export them again with the others"),
        ],
        validators=[Optional()],
    )


# --- The register's filters ------------------------------------------------------------------


def _parse_date(raw: str, label: str, errors: list[tuple[str, str]], field: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors.append((field, f"{label} must be a real date, like 27 3 2027"))
        return None
    if not 2000 <= value.year <= 2100:
        errors.append((field, f"{label} must be between 2000 and 2100"))
        return None
    return value


def _date_typed(args: Mapping[str, str], field: str) -> str:
    """The date a filter names: from the page's three fields (`from-day`, `from-month`,
    `from-year`) when any was filled in, as YYYY-MM-DD for _parse_date (a part left out makes
    it no date); else the ISO date of a sorting or paging link (`from=2026-04-01`)."""
    parts = [args.get(f"{field}-{part}", "").strip() for part in ("year", "month", "day")]
    if not any(parts):
        return args.get(field, "")
    if not all(p.isascii() and p.isdigit() for p in parts):
        return "not a date"
    year, month, day = (int(p) for p in parts)
    return f"{year:04d}-{month:02d}-{day:02d}" if year < 10_000 else "not a date"


def _parse_amount(raw: str, label: str, errors: list[tuple[str, str]], field: str) -> int | None:
    if not raw.strip():
        return None
    try:
        return pricing.parse_pounds(raw)
    except pricing.MoneyError as error:
        errors.append((field, str(error).replace("Amount", label, 1)))
        return None


def parse_register_filters(
    args: Mapping[str, str],
) -> tuple[RegisterFilters, list[tuple[str, str]]]:
    """The register's filters from the query string, and (field id, message) for each value
    that cannot be used: an unknown type or status, a date that is not one, a range the wrong
    way round, an amount with more than two decimals."""
    errors: list[tuple[str, str]] = []
    raw_type = args.get("type", "").strip()
    document_type = None
    if raw_type:
        try:
            document_type = DocumentType(raw_type)
        except ValueError:
            errors.append(("type", "Select a type from the list"))
    raw_status = args.get("status", "").strip()
    status = None
    if raw_status:
        try:
            status = DocumentStatus(raw_status)
        except ValueError:
            errors.append(("status", "Select a status from the list"))
    quadrant_id = None
    raw_quadrant = args.get("quadrant", "").strip()
    if raw_quadrant:
        quadrant_id = whole_number(raw_quadrant)
        if quadrant_id is None:
            errors.append(("quadrant", "Select a quadrant from the list"))
    school_urn = None
    raw_school = args.get("school", "").strip()
    if raw_school:
        school_urn = whole_number(raw_school)
        if school_urn is None:
            errors.append(("q", "A school's URN is a number, like 114820"))
    issued_from = _parse_date(_date_typed(args, "from"), "Issued from", errors, "from")
    issued_to = _parse_date(_date_typed(args, "to"), "Issued to", errors, "to")
    if issued_from and issued_to and issued_from > issued_to:
        errors.append(("from", "Issued from must be the same as or before issued to"))
    amount_min = _parse_amount(args.get("min", ""), "Amount from", errors, "min")
    amount_max = _parse_amount(args.get("max", ""), "Amount to", errors, "max")
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        errors.append(("min", "Amount from must be the same as or less than amount to"))
    sort = args.get("sort", "issued")
    if sort not in SORTS:
        errors.append(("sort", "Sort by one of the columns offered"))
        sort = "issued"
    direction = args.get("dir", "desc" if sort == "issued" else "asc")
    if direction not in ("asc", "desc"):
        direction = "desc"
    page = whole_number(args.get("page", "1"), max_digits=5) or 1
    filters = RegisterFilters(
        q=args.get("q", "")[:100],
        document_type=document_type,
        status=status,
        school_urn=school_urn,
        quadrant_id=quadrant_id,
        issued_from=issued_from,
        issued_to=issued_to,
        amount_min_pence=amount_min,
        amount_max_pence=amount_max,
        sort=sort,
        descending=direction == "desc",
        page=page,
    )
    return filters, errors
