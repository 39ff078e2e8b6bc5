"""The finance pages' long tables, built by the view in one pass: the register's page of
documents, aged debt's schools and overdue invoices, and a statement's lines. Each cell through
Jinja cost several times as much, and these tables were most of their pages' time. The markup
is what the templates' loops made, cell for cell.

Text from the database is escaped; amounts are `pounds` and dates `long_date` or `date_time`
(letters, digits and "£,.-:" only); ids and counts are ints.
"""

from __future__ import annotations

from collections.abc import Collection

from markupsafe import Markup, escape

from traded_app.domain.types import DocumentType
from traded_app.formatting import date_time, long_date, pounds
from traded_app.services.finance import aged_debt, register, statements
from traded_app.web import id_url_parts

_CELL = '<td class="govuk-table__cell">'
_NUMBER = '<td class="govuk-table__cell govuk-table__cell--numeric">'
_TOTAL = '<td class="govuk-table__cell govuk-table__cell--numeric govuk-!-font-weight-bold">'
_NOT_APPLICABLE = '<span class="govuk-visually-hidden">Not applicable</span>'


def _document_link() -> tuple[str, str]:
    """A document page's URL before and after its id, escaped."""
    before, after = id_url_parts("documents.document_detail", "document_id")
    return str(escape(before)), str(escape(after))


def register_rows(rows: list[register.RegisterRow]) -> Markup:
    """The register's rows of a page (50)."""
    before, after = _document_link()
    out = []
    for row in rows:
        document = row.document
        kind = document.document_type
        against = f" against {escape(row.credits_number)}" if row.credits_number else ""
        quadrant = f" · {escape(row.quadrant_name)}" if row.quadrant_name else ""
        po = f" · PO {escape(document.po_number)}" if document.po_number else ""
        gross = pounds(document.gross_pence)
        if kind == DocumentType.CREDIT_NOTE:
            due = _NOT_APPLICABLE
            amount = (
                f'<span class="app-nowrap">&minus;{gross}</span>'
                '<span class="govuk-visually-hidden"> credit</span>'
            )
            paid = balance = _NOT_APPLICABLE
        else:
            amount = f'<span class="app-nowrap">{gross}</span>'
            paid = pounds(row.figures.paid_pence)
            if kind == DocumentType.RECHARGE:
                due, balance = "Settled by journal", _NOT_APPLICABLE
            else:
                due = f'<span class="app-nowrap">{long_date(document.due_date)}</span>'
                balance = pounds(row.figures.balance_pence)
        status = row.status
        out.append(
            '<tr class="govuk-table__row">'
            f'{_CELL}<a class="govuk-link" href="{before}{int(document.id)}{after}">'
            f'<span class="app-nowrap">{escape(document.number)}</span></a>'
            f'<span class="govuk-body-s app-block">{kind.label}{against}</span></td>'
            f"{_CELL}{escape(document.buyer_name)}"
            f'<span class="govuk-body-s app-block">URN {int(document.buyer_urn)}{quadrant}{po}'
            "</span></td>"
            f'<td class="govuk-table__cell app-nowrap">{long_date(document.issue_date)}</td>'
            f"{_CELL}{due}</td>{_NUMBER}{amount}</td>{_NUMBER}{paid}</td>{_NUMBER}{balance}</td>"
            f'{_CELL}<strong class="govuk-tag {status.tag_class}">{status.label}</strong></td>'
            "</tr>\n"
        )
    return Markup("".join(out))  # noqa: S704 - every value above is escaped, a number or a label


def debt_rows(schools: list[aged_debt.SchoolDebt]) -> Markup:
    """Aged debt's table of schools, one row each (a few hundred)."""
    before, after = (
        escape(part) for part in id_url_parts("finance.register_page", "school", type="invoice")
    )
    rows = []
    for school in schools:
        ages = school.ages
        quadrant = f" · {escape(school.quadrant_name)}" if school.quadrant_name else ""
        invoices = "invoice" if school.invoices == 1 else "invoices"
        rows.append(
            '<tr class="govuk-table__row"><th scope="row" class="govuk-table__header '
            f'govuk-!-font-weight-regular"><a class="govuk-link" href="{before}{int(school.urn)}{after}">'
            f'{escape(school.name)}</a><span class="govuk-body-s app-block">URN {int(school.urn)}'
            f"{quadrant} · {int(school.invoices)} {invoices}</span></th>"
            f"{_NUMBER}{pounds(ages.current)}</td>{_NUMBER}{pounds(ages.d0_30)}</td>"
            f"{_NUMBER}{pounds(ages.d31_60)}</td>{_NUMBER}{pounds(ages.d61_90)}</td>"
            f"{_NUMBER}{pounds(ages.d90_plus)}</td>{_TOTAL}{pounds(ages.total)}</td>"
            "</tr>\n"
        )
    return Markup("".join(rows))  # noqa: S704 - every value above is escaped or a number


def overdue_rows(
    items: list[aged_debt.OverdueInvoice], can_remind: bool, chosen: Collection[int]
) -> Markup:
    """Aged debt's page of overdue invoices (50). Finance officers (`can_remind`) get a first
    column: a box to tick for each invoice a reminder may go for (the first box has the id
    "documents", where the error summary's link lands; those in `chosen` ticked), "Paused" for
    an invoice whose reminders are paused, or when the next reminder may go."""
    before, after = _document_link()
    first = True
    rows = []
    for item in items:
        document = item.document
        number = escape(document.number)
        remind = ""
        if can_remind:
            if item.paused:
                what = '<strong class="govuk-tag govuk-tag--grey">Paused</strong>'
            elif item.can_remind:
                box_id = "documents" if first else f"remind-{int(document.id)}"
                first = False
                checked = " checked" if document.id in chosen else ""
                what = (
                    '<div class="govuk-checkboxes govuk-checkboxes--small" '
                    'data-module="govuk-checkboxes"><div class="govuk-checkboxes__item">'
                    f'<input class="govuk-checkboxes__input" id="{box_id}" name="documents" '
                    f'type="checkbox" value="{int(document.id)}"{checked}>'
                    f'<label class="govuk-label govuk-checkboxes__label" for="{box_id}">'
                    f'<span class="govuk-visually-hidden">Remind about {number}</span></label>'
                    "</div></div>"
                )
            else:
                what = (
                    f'<span class="govuk-body-s">Next from {long_date(item.next_reminder_on)}'
                    "</span>"
                )
            remind = f"{_CELL}{what}</td>"
        reminded = date_time(item.last_reminder_at) if item.last_reminder_at else "None"
        rows.append(
            f'<tr class="govuk-table__row">{remind}'
            f'{_CELL}<a class="govuk-link" href="{before}{int(document.id)}{after}">{number}</a>'
            f'<span class="govuk-body-s app-block">Due {long_date(document.due_date)}</span></td>'
            f"{_CELL}{escape(document.buyer_name)}</td>"
            f"{_NUMBER}{int(item.days_overdue)}</td>{_NUMBER}{pounds(item.balance_pence)}</td>"
            f"{_CELL}{reminded}</td></tr>\n"
        )
    return Markup("".join(rows))  # noqa: S704 - every value above is escaped, a number or a date


def statement_rows(entries: list[statements.Entry]) -> Markup:
    """A page of a statement's lines (100): date, the item (a document links to its page), the
    details, what was charged, paid or credited, and the balance after it."""
    before, after = _document_link()
    rows = []
    for entry in entries:
        reference = str(escape(entry.reference))
        if not entry.is_payment:
            link = f"{before}{int(entry.document_id)}{after}"
            reference = f'<a class="govuk-link" href="{link}">{reference}</a>'
        debit = pounds(entry.debit_pence) if entry.debit_pence else ""
        credit = pounds(entry.credit_pence) if entry.credit_pence else ""
        rows.append(
            f'<tr class="govuk-table__row">{_CELL}{long_date(entry.on)}</td>'
            f"{_CELL}{escape(entry.kind)} {reference}</td>{_CELL}{escape(entry.detail)}</td>"
            f"{_NUMBER}{debit}</td>{_NUMBER}{credit}</td>"
            f"{_NUMBER}{pounds(entry.balance_pence)}</td></tr>\n"
        )
    return Markup("".join(rows))  # noqa: S704 - every value above is escaped, a number or a date
