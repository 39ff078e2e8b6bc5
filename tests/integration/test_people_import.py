"""Inviting school staff from a CSV file (preview, then confirm), advisers with their quadrant,
and the invitations not yet accepted: who, when sent, expired, sent again."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import text_of
from tests.factories import make_school, make_user
from traded_app.extensions import db
from traded_app.models import CsvImport, User
from traded_app.models.base import utcnow
from traded_app.models.types import Role, SchoolStatus
from traded_app.services.council import users as users_admin

UPLOAD = "/council/manage/users/import"


def _outbox(app: Flask) -> list[str]:
    return [p.read_text() for p in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))]


def upload(client: Any, url: str, data: bytes, name: str) -> Any:
    """Post a file as a browser would. The body is encoded here, in memory: the test client's own
    encoder spools a large file to a temporary file it leaves open."""
    boundary, body = encode_multipart(
        {"csrf_token": client.csrf_token(), "file": FileStorage(io.BytesIO(data), name)}
    )
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _upload(client: Any, data: bytes, name: str = "staff.csv") -> Any:
    return upload(client, UPLOAD, data, name)


def _accounts() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def _line(page: Any, line: int) -> str:
    return text_of(page.soup, f"#line-{line}")


def test_preview_says_what_each_row_does_and_confirming_invites(
    app: Flask, as_role: Any, world: Any
) -> None:
    closed = make_school(100009, "Old Mill School", status=SchoolStatus.CLOSED)
    invited = make_user("waiting@hilltop.example", Role.HEADTEACHER, world.other_school)
    invited.password_hash = users_admin.UNUSABLE_PREFIX + "x"
    db.session.commit()
    csv = (
        "URN,Name,Email,Role\n"
        f"{world.other_school.urn},Nia Head,Nia@Hilltop.example,headteacher\n"  # 2: invited
        f"{world.other_school.urn},Sam Money,sam@hilltop.example,School business manager\n"
        f"{world.school.urn},Head,head@school.example,school business manager\n"  # 4: role
        f"{world.other_school.urn},Waiting,waiting@hilltop.example,headteacher\n"  # 5: resend
        f"{world.school.urn},Same,sbm@school.example,sbm\n"  # 6: nothing
        "999999,Nobody,nobody@x.example,headteacher\n"  # 7: unknown URN
        f"{closed.urn},Closed,closed@x.example,headteacher\n"  # 8: closed
        f"{world.other_school.urn},Again,NIA@hilltop.example,headteacher\n"  # 9: duplicate
        f"{world.other_school.urn},Bad,bad@x.example,governor\n"  # 10: bad role
        f"{world.other_school.urn},Council,finance@council.example,headteacher\n"  # 11
        f"{world.academy.urn},Moved,sbm@school.example,headteacher\n"  # 12: dup e-mail of 6
        f"{world.academy.urn},Elsewhere,head@school.example.org,headteacher\n"  # 13: new
        f"{world.academy.urn},No mail,not-an-email,headteacher\n"  # 14
    ).encode()
    admin = as_role(Role.LA_ADMIN)
    before, mails_before = _accounts(), len(_outbox(app))
    response = _upload(admin, csv)
    assert response.status_code == 302
    assert _accounts() == before and len(_outbox(app)) == mails_before  # nothing yet
    page = admin.get(response.location)
    assert page.soup.h1.get_text(strip=True) == "Check who will be invited"
    assert text_of(page.soup, "#count-create") == "3"
    assert text_of(page.soup, "#count-change") == "1"
    assert text_of(page.soup, "#count-resend") == "1"
    assert text_of(page.soup, "#count-nothing") == "1"
    assert text_of(page.soup, "#count-refuse") == "7"
    assert "Invited" in _line(page, 2) and "Hilltop Infant School" in _line(page, 2)
    assert "Role changes from headteacher to school business manager" in _line(page, 4)
    assert "not yet accepted" in _line(page, 5)
    assert "Already has this role" in _line(page, 6)
    assert "There is no school with URN 999999" in _line(page, 7)
    assert "Old Mill School is closed" in _line(page, 8)
    assert "The same e-mail address as line 2" in _line(page, 9)
    assert "“governor” is not a role" in _line(page, 10)
    assert "council account" in _line(page, 11)
    assert "The same e-mail address as line 6" in _line(page, 12)
    assert "is not an e-mail address" in _line(page, 14)

    done = admin.post_form(response.location)
    assert done.status_code == 302
    assert _accounts() == before + 3
    nia = users_admin.find_user_by_email("nia@hilltop.example")
    assert nia is not None and nia.role == Role.HEADTEACHER and not users_admin.has_password(nia)
    assert nia.invited_at is not None
    head = users_admin.find_user_by_email("head@school.example")
    assert head is not None and head.role == Role.SCHOOL_BUSINESS_MANAGER and head.name == "Head"
    mails = _outbox(app)[mails_before:]
    assert len(mails) == 4  # three new invitations and one sent again
    assert any("waiting@hilltop.example" in m for m in mails)
    # Confirming twice does nothing more.
    again = admin.post_form(response.location, follow_redirects=True)
    assert "already applied" in text_of(again.soup, ".govuk-notification-banner")
    assert _accounts() == before + 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"URN,name,e-mail address\n1,a,b\n", "Missing: email, role"),
        ("URN,name,email,role\n100002,Zoë,z@x.example,head\n".encode("utf-16"), "UTF-16"),
        (b"", "The file is empty"),
        (b"URN,name,email,role\n", "no rows under it"),
        (b"PK\x03\x04" + b"\x00" * 200, "not a CSV text file"),
        (os.urandom(3 * 1024 * 1024), "larger than 2 MB"),
        (b"URN,name,email,role\n" + b'1,"unclosed' + b"x" * 3000 + b"\n", "longer than 2,000"),
    ],
    ids=["wrong-columns", "utf-16", "empty", "header-only", "xlsx", "junk-10mb", "long-field"],
)
def test_bad_files_change_nothing(as_role: Any, world: Any, content: bytes, message: str) -> None:
    admin = as_role(Role.LA_ADMIN)
    before = _accounts()
    page = _upload(admin, content)
    assert page.status_code == 200
    summary = text_of(page.soup, ".govuk-error-summary")
    assert message in summary and "Nothing was changed" in summary
    assert _accounts() == before
    assert db.session.execute(select(func.count()).select_from(CsvImport)).scalar_one() == 0


def test_ten_megabytes_of_junk_is_refused_before_reading_it_all(as_role: Any, world: Any) -> None:
    page = _upload(as_role(Role.LA_ADMIN), os.urandom(10 * 1024 * 1024), "junk.csv")
    assert "larger than 2 MB" in text_of(page.soup, ".govuk-error-summary")


def test_windows_1252_file_is_read(as_role: Any, world: Any) -> None:
    csv = f"URN,name,email,role\n{world.other_school.urn},Zoë Brontë,zoe@x.example,headteacher\n"
    admin = as_role(Role.LA_ADMIN)
    response = _upload(admin, csv.encode("cp1252"))
    page = admin.get(response.location)
    assert "Zoë Brontë" in _line(page, 2)


def test_discarding_changes_nothing(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    csv = f"URN,name,email,role\n{world.other_school.urn},New,new@x.example,headteacher\n"
    response = _upload(admin, csv.encode())
    before = _accounts()
    discard = admin.post_form(response.location + "/discard", follow_redirects=True)
    assert "nobody was invited" in text_of(discard.soup, ".govuk-notification-banner")
    assert admin.post_form(response.location).status_code == 302
    assert _accounts() == before


def test_adviser_is_invited_with_a_quadrant(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    form = admin.get("/council/manage/users/new")
    assert form.soup.select_one(f"select#quadrant_id option[value='{world.quadrant.id}']")
    response = admin.post_form(
        "/council/manage/users/new",
        {
            "name": "Priya Evans",
            "email": "priya@council.example",
            "role": "adviser",
            "quadrant_id": str(world.quadrant.id),
        },
    )
    assert response.status_code == 302
    priya = users_admin.find_user_by_email("priya@council.example")
    assert priya is not None and priya.quadrant_id == world.quadrant.id
    refused = admin.post_form(
        "/council/manage/users/new",
        {"name": "X", "email": "x@council.example", "role": "adviser", "quadrant_id": "9999"},
    )
    assert "Select the adviser's quadrant from the list" in text_of(
        refused.soup, ".govuk-error-summary"
    )


def test_invitations_not_accepted_show_expiry_and_can_be_sent_again(
    app: Flask, as_role: Any, world: Any
) -> None:
    fresh = make_user("fresh@x.example", Role.HEADTEACHER, world.other_school, name="Fresh Face")
    old = make_user("old@x.example", Role.HEADTEACHER, world.other_school, name="Old Timer")
    for user, days in ((fresh, 1), (old, users_admin.INVITE_DAYS + 1)):
        user.password_hash = users_admin.UNUSABLE_PREFIX + "x"
        user.invited_at = utcnow() - timedelta(days=days)
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    page = admin.get("/council/manage/users/invitations")
    rows = {
        text_of(row, "td"): text_of(row, "td:nth-of-type(4)")
        for row in page.soup.select("#invitations tbody tr")
    }
    assert rows["Fresh Face fresh@x.example"].startswith("Works until")
    assert rows["Old Timer old@x.example"] == "Expired"
    assert "sbm@school.example" not in text_of(page.soup, "main")  # accepted long ago
    mails = len(_outbox(app))
    sent = admin.post_form(
        f"/council/manage/users/invitations/{old.id}/send-again", follow_redirects=True
    )
    assert "A new invitation was sent to old@x.example" in text_of(
        sent.soup, ".govuk-notification-banner"
    )
    assert len(_outbox(app)) == mails + 1
    rows = {
        text_of(row, "td"): text_of(row, "td:nth-of-type(4)")
        for row in sent.soup.select("#invitations tbody tr")
    }
    assert rows["Old Timer old@x.example"].startswith("Works until")
    users_page = admin.get("/council/manage/users?q=fresh")
    assert "Invited" in text_of(users_page.soup, "main")


def test_only_the_service_manager_invites_in_bulk(as_role: Any, world: Any) -> None:
    for role in (Role.LA_FINANCE, Role.ADVISER, Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER):
        client = as_role(role)
        assert client.get(UPLOAD).status_code == 403
        assert client.get("/council/manage/users/invitations").status_code == 403
    record = CsvImport(kind="staff", filename="x.csv", rows="[]")
    db.session.add(record)
    db.session.commit()
    assert as_role(Role.LA_FINANCE).get(f"{UPLOAD}/{record.id}").status_code == 403
    assert as_role(Role.LA_ADMIN).get(f"{UPLOAD}/{record.id}").status_code == 200
    assert as_role(Role.LA_ADMIN).get(f"{UPLOAD}/{record.id + 1}").status_code == 404
