"""One way out for every e-mail: SMTP when MAIL_SERVER is set, otherwise a readable outbox.

Sending never raises: a mail failure is logged and reported as False, so it can never undo the
work (an order, a payment) that the e-mail is about.
"""

from __future__ import annotations

import logging
import os
import smtplib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from traded_app.models.base import utcnow
from traded_app.services.platform.settings import app_config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str = "application/pdf"


def build_message(
    to: list[str],
    subject: str,
    body: str,
    sender: str,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    for attachment in attachments:
        maintype, _, subtype = attachment.mimetype.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return message


def send_mail(
    to: list[str], subject: str, body: str, attachments: Sequence[Attachment] = ()
) -> bool:
    """Send a plain-text e-mail, with any attachments; True when it was sent (or written to the
    outbox). Never raises: a failure is logged and answered False."""
    recipients = [address for address in to if address]
    if not recipients:
        return False
    try:
        deliver(recipients, subject, body, attachments)
    except (OSError, smtplib.SMTPException, ValueError, TypeError):
        log.exception("Could not send e-mail %r to %s", subject, recipients)
        return False
    return True


def deliver(
    to: Sequence[str], subject: str, body: str, attachments: Sequence[Attachment] = ()
) -> None:
    """Send now, or raise: OSError or SMTPException when the server fails, ValueError or
    TypeError for an address or attachment the e-mail library cannot encode (the queue's
    e-mail job retries and records these)."""
    message = build_message(list(to), subject, body, app_config("MAIL_SENDER"), attachments)
    if app_config("MAIL_SERVER"):
        _send_smtp(message)
    else:
        _write_outbox(message, Path(app_config("MAIL_OUTBOX_DIR")))


def _send_smtp(message: EmailMessage) -> None:
    with smtplib.SMTP(app_config("MAIL_SERVER"), app_config("MAIL_PORT"), timeout=10) as smtp:
        if app_config("MAIL_USE_TLS"):
            smtp.starttls()
        if app_config("MAIL_USERNAME"):
            smtp.login(app_config("MAIL_USERNAME"), app_config("MAIL_PASSWORD"))
        smtp.send_message(message)


def _write_outbox(message: EmailMessage, outbox: Path) -> Path:
    """Write the message as an .eml file, atomically, named so a listing sorts by time."""
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
    temporary = outbox / f".{name}.tmp"
    temporary.write_bytes(message.as_bytes())
    os.replace(temporary, outbox / name)
    return outbox / name
