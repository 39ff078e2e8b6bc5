"""The mail service: an outbox in development, SMTP when configured, never an exception."""

from __future__ import annotations

import email
import socket
from pathlib import Path
from typing import Any

from flask import Flask

from traded_app.services.platform.mail import send_mail


def test_without_smtp_mail_lands_in_a_readable_outbox(app: Flask) -> None:
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    assert send_mail(
        ["head@school.example"], "Order ORD-1 needs your approval", "Please approve it."
    )
    new = set(outbox.glob("*.eml")) - before
    assert len(new) == 1
    message = email.message_from_bytes(new.pop().read_bytes())
    assert message["To"] == "head@school.example"
    assert message["Subject"] == "Order ORD-1 needs your approval"
    assert message.get_payload().strip() == "Please approve it."


def test_an_smtp_failure_is_reported_not_raised(app: Flask, caplog: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens once the socket closes
    old = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    try:
        assert send_mail(["head@school.example"], "Subject", "Body") is False
    finally:
        app.config.update(old)
    assert "Could not send e-mail" in caplog.text


def test_no_recipients_sends_nothing(app: Flask) -> None:
    assert send_mail(["", ""], "Subject", "Body") is False
