"""E-mailing issued documents to the school's billing contact, with the PDF attached, and the log
of every send.

The first e-mail is queued in the issuing transaction (platform.outbox, as every e-mail is) and
sent by the job queue once that commits: a document that was rolled back is never sent, and a
send that fails never undoes the document. The PDF is read from the store at send time, checked
against the SHA-256 recorded when it was issued. Each try, sent or not, is a DocumentSend row;
the queue retries with backoff, and finance can send again at any time.

The e-mail goes to the school's billing contact as the school's record has it now (so a
corrected address is used when finance sends again); the document itself keeps the contact it
was issued to. A school with no billing contact e-mail gets a row saying so, for finance to see.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.formatting import long_date, pounds
from traded_app.models import Document, DocumentSend, DocumentType, User
from traded_app.models.jobs import OutgoingEmail
from traded_app.services.documents import reading
from traded_app.services.documents.numbering import InvoicingError
from traded_app.services.finance import recipients
from traded_app.services.platform import outbox
from traded_app.services.platform.after_commit import is_suppressed
from traded_app.services.platform.links import absolute_url

log = logging.getLogger(__name__)

NO_CONTACT = "The school has no billing contact e-mail address"
PDF_UNAVAILABLE = outbox.PDF_UNAVAILABLE
NOT_ACCEPTED = outbox.NOT_ACCEPTED
SEND_KIND = "document"


def send_after_commit(document: Document) -> None:
    """Queue the document's first e-mail in the issuing transaction (sent once it commits)."""
    queue(document, sent_by=None)


def send_again(document: Document, user: User) -> OutgoingEmail | None:
    """Finance sends the document again. The e-mail is queued (None when the school has no
    billing contact, which is logged as not sent); each try is logged as it happens. A
    brought-forward document has no PDF of ours to send (its page offers no button)."""
    if document.brought_forward:
        raise InvoicingError(f"{document.number} was brought forward: there is no PDF to send")
    return queue(document, sent_by=user)


def queue(document: Document, sent_by: User | None) -> OutgoingEmail | None:
    """Queue the document with its stored PDF for the school's billing contact."""
    if is_suppressed(db.session):
        return None  # demo data and benchmarks e-mail nobody and log nothing
    recipient = recipients.recipient_of(document)  # the trust's, when issued to the trust
    if not recipient:
        db.session.add(
            DocumentSend(
                document_id=document.id,
                sent_by_id=sent_by.id if sent_by else None,
                recipient="",
                succeeded=False,
                error=NO_CONTACT,
            )
        )
        db.session.flush()
        return None
    subject, body = message_for(document)
    return outbox.queue_email(
        [recipient],
        subject,
        body,
        purpose=f"{document.document_type.label} {document.number}",
        document=document,
        school_id=document.school_id,
        kind=SEND_KIND,
        ref_id=document.id,
        requested_by_id=sent_by.id if sent_by else None,
    )


@outbox.records_results(SEND_KIND)
def _log_try(email: OutgoingEmail, outcome: outbox.Outcome, error: str) -> None:
    """Each try, sent or not, is a DocumentSend row; giving up adds nothing to the log."""
    if outcome is outbox.Outcome.FAILED or email.ref_id is None:
        return
    db.session.add(
        DocumentSend(
            document_id=email.ref_id,
            sent_by_id=email.requested_by_id,
            recipient=email.recipients,
            succeeded=outcome is outbox.Outcome.SENT,
            error=error,
        )
    )


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
        f"for {_what_for(document)}. It is attached as a PDF.",
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


def _what_for(document: Document) -> str:
    """'order ORD-…', 'partnership order PTN-…' or 'course booking …': what it charges for."""
    charged = reading.charged_for(document)
    kind = charged.kind.value if charged is not None else "order"
    return f"{kind} {document.order_reference}"


def sends_of(document: Document) -> list[DocumentSend]:
    """Every attempt to e-mail the document, newest first."""
    return list(
        db.session.execute(
            select(DocumentSend)
            .where(DocumentSend.document_id == document.id)
            .order_by(DocumentSend.sent_at.desc(), DocumentSend.id.desc())
        ).scalars()
    )
