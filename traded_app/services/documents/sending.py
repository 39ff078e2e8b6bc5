"""E-mailing issued documents to the school's billing contact, with the PDF attached, and the log
of every send.

The first send happens when a document is issued, once the issuing transaction has committed
(platform.after_commit, as for every e-mail): a document that was rolled back is never sent,
and a send that fails never undoes the document. The queue carries only the document's id; the PDF is read from the store at send time, checked
against the SHA-256 recorded when it was issued. Each attempt, sent or not, is a DocumentSend row
(written in a transaction of its own after the commit). Finance can send again at any time.

The e-mail goes to the school's billing contact as the school's record has it now (so a
corrected address is used when finance sends again); the document itself keeps the contact it
was issued to. A school with no billing contact e-mail gets a row saying so, for finance to see.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from traded_app.extensions import db
from traded_app.formatting import long_date, pounds
from traded_app.models import Document, DocumentSend, DocumentType, User
from traded_app.services.platform.after_commit import after_commit
from traded_app.services.platform.document_store import MissingPdfError, read_pdf
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.mail import Attachment, send_mail

log = logging.getLogger(__name__)

NO_CONTACT = "The school has no billing contact e-mail address"
PDF_UNAVAILABLE = "The stored PDF is missing or is not the one issued, so nothing was sent"
NOT_ACCEPTED = "The e-mail could not be sent: the mail server could not be reached or refused it"


def send_after_commit(document: Document) -> None:
    """Queue the document's first e-mail for when this transaction commits."""
    after_commit(db.session, send_first, document.id)


def send_first(document_id: int) -> None:
    """The first e-mail of a committed document, logged in a transaction of its own."""
    try:
        with Session(bind=db.engine) as own:
            document = own.get(Document, document_id)
            if document is not None:
                own.add(deliver(document, sent_by=None))
            own.commit()
    except Exception:
        # The document is committed; a fault here must not turn that into an error. What was
        # not logged shows as never sent, for finance to send again.
        log.exception("Could not send or log the e-mail of document %s", document_id)


def send_again(document: Document, user: User) -> DocumentSend:
    """Finance sends the document again, now; the attempt is logged whatever happens."""
    send = deliver(document, sent_by=user)
    db.session.add(send)
    db.session.flush()
    return send


def deliver(document: Document, sent_by: User | None) -> DocumentSend:
    """E-mail the document with its stored PDF to the school's billing contact; the log row
    (not yet added to any session) says whether it went. Never raises for a mail fault."""
    recipient = (document.school.billing_contact_email or "").strip()
    send = DocumentSend(
        document_id=document.id,
        sent_by_id=sent_by.id if sent_by else None,
        recipient=recipient,
        succeeded=False,
    )
    if not recipient:
        send.error = NO_CONTACT
        return send
    try:
        content = read_pdf(document)
    except MissingPdfError:
        log.error("Not sending %s: its stored PDF is missing or altered", document.number)
        send.error = PDF_UNAVAILABLE
        return send
    subject, body = message_for(document)
    attachment = Attachment(f"{document.number}.pdf", content, "application/pdf")
    send.succeeded = send_mail([recipient], subject, body, [attachment])
    if not send.succeeded:
        send.error = NOT_ACCEPTED
    return send


PHRASES = {
    DocumentType.INVOICE: "VAT invoice",
    DocumentType.RECHARGE: "internal recharge",
    DocumentType.CREDIT_NOTE: "credit note",
}


def message_for(document: Document) -> tuple[str, str]:
    """The e-mail's subject and plain-text body (every figure copied from the document)."""
    kind = PHRASES[document.document_type]
    subject = f"{document.document_type.label} {document.number} from {document.seller_name}"
    amount = f"Amount: {pounds(document.gross_pence)}"
    if document.vat_pence:
        amount += f" (including VAT {pounds(document.vat_pence)})"
    lines = [
        f"{document.seller_name} has issued {kind} {document.number} to {document.buyer_name} "
        f"for order {document.order_reference}. It is attached as a PDF.",
        "",
        amount,
        f"Issue date: {long_date(document.issue_date)}",
    ]
    if document.po_number:
        lines.append(f"Your purchase order number: {document.po_number}")
    lines.append("")
    if document.document_type == DocumentType.INVOICE:
        lines += [
            f"Please pay by {long_date(document.due_date)} by bank transfer to "
            f"{document.bank_account_name}, sort code {document.bank_sort_code}, account number "
            f"{document.bank_account_number}, quoting {document.number} as the reference.",
        ]
    elif document.document_type == DocumentType.RECHARGE:
        lines.append(
            "Do not pay this: it is settled by a journal against your school's cost centre"
            + (f" {document.buyer_cost_centre}." if document.buyer_cost_centre else ".")
        )
    else:
        original = document.credits.number if document.credits else ""
        lines.append(f"This credit note reduces what is owed on {original}.")
        if document.reason:
            lines.append(f"Reason: {document.reason}")
    link = absolute_url("documents.school_documents")
    if link:
        lines += ["", f"See your school's invoices: {link}"]
    if document.seller_email:
        lines += ["", f"Questions: {document.seller_email}"]
    return subject, "\n".join(lines) + "\n"


def sends_of(document: Document) -> list[DocumentSend]:
    """Every attempt to e-mail the document, newest first."""
    return list(
        db.session.execute(
            select(DocumentSend)
            .where(DocumentSend.document_id == document.id)
            .order_by(DocumentSend.sent_at.desc(), DocumentSend.id.desc())
        ).scalars()
    )
