"""Remittances: a school tells the council it has paid (amount, date, reference, the VAT invoices
it covers, optionally its own remittance file), and finance matches it, which records the
payments in one step. A trust's finance staff do the same for the trust (its remittance's payer
is the trust, not a school: `Remittance.trust_id`), covering invoices of any of its academies;
matching records a payment on each, in whichever academy's account it is. Each academy sees
the trust's remittances that cover its invoices cut down to its own part
(`from_trust_for_school`): never the other academies' invoices or amounts.

A remittance adds up when its amount is exactly what is left to pay on the invoices it names,
as their balances stand now (services/finance/balances.py). One that does not (the school paid
more or less, or an invoice was paid or credited meanwhile) is shown as such, with the
difference, and is not matched: finance records what was paid invoice by invoice instead.

Submitting the same form twice makes one remittance: the form carries a one-time key, unique
per payer. Matching locks the remittance's row (SELECT … FOR UPDATE on PostgreSQL; on SQLite the
write lock taken at BEGIN IMMEDIATE), so a second press of the button finds it matched and
records nothing. The file (PDF or CSV, at most `MAX_FILE_BYTES`) is checked to be what it says
it is, kept in the database, and only ever downloaded, never shown in a page.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from traded_app.extensions import db
from traded_app.formatting import long_date, pounds
from traded_app.models import Document, DocumentType, Payment, School, Trust, User
from traded_app.models.base import utcnow
from traded_app.models.payments import PaymentKind
from traded_app.models.statements import Remittance, RemittanceDocument, RemittanceStatus
from traded_app.services.finance import balances, payments
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import today
from traded_app.services.platform.statements import run

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_REFERENCE_LENGTH = 80
MAX_NOTE_LENGTH = 500
LISTED = 200
FILE_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


class RemittanceError(DomainError, ValueError):
    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Payable:
    document: Document
    balance_pence: int


def payable_documents(school: School) -> list[Payable]:
    """The school's VAT invoices with something left to pay, oldest first (what a remittance may
    cover: internal recharges are settled by the council's journal, not paid)."""
    stmt, cols = balances.with_figures(
        select(Document).where(
            Document.school_id == school.id, Document.document_type == DocumentType.INVOICE
        )
    )
    rows = db.session.execute(
        stmt.add_columns(cols.balance)
        .where(cols.balance > 0)
        .order_by(Document.due_date, Document.id)
    ).all()
    return [Payable(document, int(balance)) for document, balance in rows]


def _member_ids(trust: Trust) -> Any:
    """Every school linked to the trust, open or closed (a closed academy's invoices can still
    be open), as a subquery."""
    return select(School.id).where(School.trust_id == trust.id).scalar_subquery()


def payable_for_trust(trust: Trust) -> list[Payable]:
    """The VAT invoices of the trust's academies with something left to pay, oldest first, each
    with its academy loaded (what a trust's remittance may cover)."""
    stmt, cols = balances.with_figures(
        select(Document)
        .options(selectinload(Document.school))
        .where(
            Document.school_id.in_(_member_ids(trust)),
            Document.document_type == DocumentType.INVOICE,
        )
    )
    rows = db.session.execute(
        stmt.add_columns(cols.balance)
        .where(cols.balance > 0)
        .order_by(Document.due_date, Document.id)
    ).all()
    return [Payable(document, int(balance)) for document, balance in rows]


def _payable(payer: School | Trust) -> list[Payable]:
    if isinstance(payer, Trust):
        return payable_for_trust(payer)
    return payable_documents(payer)


@dataclass(frozen=True)
class UploadedFile:
    name: str
    file_type: str  # "pdf" or "csv"
    content: bytes


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def check_file(filename: str, content: bytes) -> UploadedFile:
    """The school's remittance file, if it is a PDF or CSV file of at most MAX_FILE_BYTES."""
    if not content:
        raise RemittanceError("The selected file is empty", "file")
    if len(content) > MAX_FILE_BYTES:
        raise RemittanceError(
            f"The selected file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)} MB", "file"
        )
    name = _UNSAFE_NAME.sub("_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    name = name.strip(" .") or "remittance"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension == "pdf":
        if not content.startswith(b"%PDF-"):
            raise RemittanceError("The selected file must be a PDF file", "file")
    elif extension == "csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RemittanceError("The selected file must be a CSV file in UTF-8", "file") from None
        if "\x00" in text:
            raise RemittanceError("The selected file must be a CSV file", "file")
    else:
        raise RemittanceError("The selected file must be a PDF or CSV file", "file")
    if len(name) > 120:
        name = name[: 120 - len(extension) - 1] + "." + extension
    return UploadedFile(name, extension, content)


def submit(
    payer: School | Trust,
    user: User,
    form_key: str,
    amount_pence: int,
    paid_on: date,
    reference: str,
    document_ids: list[int],
    note: str = "",
    file: UploadedFile | None = None,
) -> Remittance:
    """Record the payer's remittance (a school's, or a trust's for invoices of its academies);
    the same form submitted again returns the first."""
    form_key = (form_key or "").strip()[:64]
    if not form_key:
        raise RemittanceError("The form has expired: open it again")
    existing = _by_key(payer, form_key)
    if existing is not None:
        return existing
    if amount_pence <= 0:
        raise RemittanceError("The amount paid must be more than £0", "amount")
    if paid_on > today():
        raise RemittanceError("The date paid must be today or in the past", "paid_on")
    if paid_on < today() - timedelta(days=366):
        raise RemittanceError(
            f"The date paid must be after {long_date(today() - timedelta(days=366))}", "paid_on"
        )
    reference = " ".join((reference or "").split())
    if not reference:
        raise RemittanceError("Enter your payment reference", "reference")
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise RemittanceError(
            f"The payment reference must be {MAX_REFERENCE_LENGTH} characters or fewer",
            "reference",
        )
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise RemittanceError(f"The note must be {MAX_NOTE_LENGTH} characters or fewer", "note")
    payable = {p.document.id for p in _payable(payer)}
    chosen = sorted(set(document_ids))
    if not chosen:
        raise RemittanceError("Select the invoices this payment covers", "documents")
    if any(i not in payable for i in chosen):
        whose = "your trust's academies" if isinstance(payer, Trust) else "your school"
        raise RemittanceError(f"Select only invoices of {whose} that are left to pay", "documents")
    remittance = Remittance(
        school_id=payer.id if isinstance(payer, School) else None,
        trust_id=payer.id if isinstance(payer, Trust) else None,
        form_key=form_key,
        amount_pence=amount_pence,
        paid_on=paid_on,
        reference=reference,
        note=note,
        submitted_by_id=user.id,
        status=RemittanceStatus.WAITING,
        file_name=file.name if file else "",
        file_type=file.file_type if file else "",
        file_content=file.content if file else None,
        file_bytes=len(file.content) if file else 0,
    )
    remittance.documents = [RemittanceDocument(document_id=i) for i in chosen]
    try:
        with db.session.begin_nested():
            db.session.add(remittance)
            db.session.flush()
    except IntegrityError:
        # The same form, submitted twice at the same moment: the other one was kept.
        existing = _by_key(payer, form_key)
        if existing is None:
            raise
        return existing
    return remittance


def _by_key(payer: School | Trust, form_key: str) -> Remittance | None:
    whose = (
        Remittance.trust_id == payer.id
        if isinstance(payer, Trust)
        else Remittance.school_id == payer.id
    )
    return db.session.execute(
        select(Remittance).where(whose, Remittance.form_key == form_key)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class Check:
    """Whether a remittance adds up: its amount against what its invoices have left to pay."""

    amount_pence: int
    owed_pence: int
    balances: dict[int, int]  # document id -> what is left to pay on it now

    @property
    def adds_up(self) -> bool:
        return self.amount_pence == self.owed_pence and all(b > 0 for b in self.balances.values())

    @property
    def difference_pence(self) -> int:
        return self.amount_pence - self.owed_pence

    @property
    def message(self) -> str:
        if self.adds_up:
            return "Adds up: the amount paid is what is left to pay on its invoices"
        if any(b <= 0 for b in self.balances.values()):
            return "Does not add up: an invoice it covers has nothing left to pay"
        if self.difference_pence > 0:
            return (
                f"Does not add up: {pounds(self.difference_pence)} more was paid than is left "
                f"to pay on its invoices ({pounds(self.owed_pence)})"
            )
        return (
            f"Does not add up: {pounds(-self.difference_pence)} less was paid than is left to "
            f"pay on its invoices ({pounds(self.owed_pence)})"
        )


def check(remittance: Remittance) -> Check:
    documents = [link.document for link in remittance.documents]
    figures = balances.figures_for(documents)
    left = {d.id: figures[d.id].balance_pence or 0 for d in documents}
    return Check(remittance.amount_pence, sum(max(0, b) for b in left.values()), left)


def match(remittance_id: int, user: User) -> Remittance:
    """Record a bank transfer on each invoice for what is left on it, and mark the remittance
    matched: all or nothing, once."""
    remittance = db.session.execute(
        select(Remittance).where(Remittance.id == remittance_id).with_for_update()
    ).scalar_one_or_none()
    if remittance is None:
        raise RemittanceError("There is no such remittance")
    if remittance.status == RemittanceStatus.MATCHED:
        raise RemittanceError("This remittance has already been matched: nothing was recorded")
    # Lock the invoices in id order (as journals do), then check against their balances.
    for link in sorted(remittance.documents, key=lambda link: link.document_id):
        payments.lock_document(link.document_id)
    result = check(remittance)
    if not result.adds_up:
        raise RemittanceError(result.message + ". Record the payments invoice by invoice")
    for link in remittance.documents:
        payment = payments.record_payment(
            link.document,
            PaymentKind.BANK_TRANSFER,
            result.balances[link.document_id],
            remittance.paid_on,
            remittance.reference,
            user,
            note=f"Remittance #{remittance.id}",
        )
        link.payment_id = payment.id
    remittance.status = RemittanceStatus.MATCHED
    remittance.matched_at = utcnow()
    remittance.matched_by_id = user.id
    db.session.flush()
    return remittance


def get(remittance_id: int) -> Remittance | None:
    return db.session.get(Remittance, remittance_id)


def _listed(
    status: RemittanceStatus | None, school: School | None, trust: Trust | None = None
) -> list[Remittance]:
    stmt = (
        select(Remittance)
        .options(
            selectinload(Remittance.school),
            selectinload(Remittance.trust),
            selectinload(Remittance.documents).selectinload(RemittanceDocument.document),
        )
        .order_by(Remittance.submitted_at.desc(), Remittance.id.desc())
        .limit(LISTED)
    )
    if status is not None:
        stmt = stmt.where(Remittance.status == status)
    if school is not None:
        stmt = stmt.where(Remittance.school_id == school.id)
    if trust is not None:
        stmt = stmt.where(_seen_by_trust(trust))
    return list(db.session.execute(stmt).scalars())


def waiting() -> list[tuple[Remittance, Check]]:
    """Remittances waiting to be matched, newest first, each with whether it adds up."""
    return [(r, check(r)) for r in _listed(RemittanceStatus.WAITING, None)]


# Built once: the count is shown beside a link on every page of the finance register.
_WAITING = (
    select(func.count())
    .select_from(Remittance)
    .where(Remittance.status == RemittanceStatus.WAITING)
)


def waiting_count() -> int:
    return int(run(_WAITING).scalar_one())


def recently_matched() -> list[Remittance]:
    return _listed(RemittanceStatus.MATCHED, None)[:20]


def of_school(school: School) -> list[tuple[Remittance, Check]]:
    return [(r, check(r)) for r in _listed(None, school)]


def _seen_by_trust(trust: Trust) -> Any:
    """The remittances a trust sees: its own, and its academies' (open or closed)."""
    return or_(Remittance.trust_id == trust.id, Remittance.school_id.in_(_member_ids(trust)))


def of_trust(trust: Trust) -> list[tuple[Remittance, Check]]:
    """The trust's own remittances and its academies', newest first."""
    return [(r, check(r)) for r in _listed(None, None, trust)]


@dataclass(frozen=True)
class TrustRemittanceSeen:
    """A trust's remittance as one of its academies sees it: when the trust paid, its
    reference, its state, and only this academy's invoices it covers with the amount against
    each (what matching recorded on it, or while waiting what is left to pay on it). Never the
    remittance's whole amount, its note or file, nor the other academies' invoices."""

    remittance_id: int
    trust_name: str
    paid_on: date
    reference: str
    status: RemittanceStatus
    adds_up: bool
    reason: str  # why it does not add up, in this academy's terms; "" when it does
    lines: list[tuple[Document, int]]

    @property
    def total_pence(self) -> int:
        return sum(pence for _, pence in self.lines)


def _reason_for_school(check: Check, own: list[Document]) -> str:
    if check.adds_up:
        return ""
    spent = [d.number for d in own if check.balances.get(d.id, 0) <= 0]
    if spent:
        return (
            f"Does not add up: {', '.join(spent)} has nothing left to pay. The council will "
            "record what the trust paid invoice by invoice"
        )
    return (
        "Does not add up: what the trust paid is not what is left to pay on the invoices it "
        "covers. The council will record what the trust paid invoice by invoice"
    )


def from_trust_for_school(school: School) -> list[TrustRemittanceSeen]:
    """The remittances trusts sent that cover any of `school`'s invoices, newest first, each
    cut down to this school's part (see TrustRemittanceSeen)."""
    covers_school = (
        select(RemittanceDocument.remittance_id)
        .join(Document, Document.id == RemittanceDocument.document_id)
        .where(Document.school_id == school.id)
    )
    found = db.session.execute(
        select(Remittance)
        .options(
            selectinload(Remittance.trust),
            selectinload(Remittance.documents).selectinload(RemittanceDocument.document),
        )
        .where(Remittance.trust_id.is_not(None), Remittance.id.in_(covers_school))
        .order_by(Remittance.submitted_at.desc(), Remittance.id.desc())
        .limit(LISTED)
    ).scalars()
    seen = []
    for remittance in found:
        own = [link for link in remittance.documents if link.document.school_id == school.id]
        matched = remittance.status == RemittanceStatus.MATCHED
        if matched:
            paid = _payment_amounts([link.payment_id for link in own if link.payment_id])
            lines = [(link.document, paid.get(link.payment_id or 0, 0)) for link in own]
            adds_up, reason = True, ""
        else:
            result = check(remittance)
            lines = [(link.document, max(0, result.balances[link.document_id])) for link in own]
            adds_up = result.adds_up
            reason = _reason_for_school(result, [link.document for link in own])
        seen.append(
            TrustRemittanceSeen(
                remittance_id=remittance.id,
                trust_name=remittance.trust.name if remittance.trust else "",
                paid_on=remittance.paid_on,
                reference=remittance.reference,
                status=remittance.status,
                adds_up=adds_up,
                reason=reason,
                lines=lines,
            )
        )
    return seen


def _payment_amounts(payment_ids: list[int]) -> dict[int, int]:
    if not payment_ids:
        return {}
    rows = db.session.execute(
        select(Payment.id, Payment.amount_pence).where(Payment.id.in_(payment_ids))
    ).all()
    return {int(i): int(pence) for i, pence in rows}


def file_for(
    remittance_id: int, school: School | None, trust: Trust | None = None
) -> tuple[str, str, bytes] | None:
    """The remittance file's name, content type and bytes, if there is one and it is
    `school`'s (a school user's current school) or one `trust` sees (its own or its academies');
    with neither, council staff, who see every one. None otherwise. Never rendered: the caller
    sends it as a download."""
    remittance = db.session.get(Remittance, remittance_id)
    if remittance is None or remittance.file_content is None:
        return None
    if school is not None and remittance.school_id != school.id:
        return None
    if trust is not None and not db.session.scalar(
        select(func.count())
        .select_from(Remittance)
        .where(Remittance.id == remittance_id, _seen_by_trust(trust))
    ):
        return None
    return remittance.file_name, FILE_TYPES[remittance.file_type], remittance.file_content
