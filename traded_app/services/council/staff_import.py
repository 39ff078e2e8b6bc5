"""Inviting school staff in bulk from a CSV file (URN, name, email, role).

`preview` reads and checks the file and keeps each row with what confirming would do: invite
(create an account), change (the person's role at the same school), send the invitation again
(invited, not yet accepted), nothing (already has access) or refuse, with why. Nothing changes
until `apply`, which checks every row again against the accounts and schools as they are then
(another person may have invited someone meanwhile) and does what the rows now say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import func, select

from traded_app.domain.numbers import whole_number
from traded_app.extensions import db
from traded_app.models import CsvImport, CsvImportKind, School, SchoolMembership, User
from traded_app.models.types import SCHOOL_ROLES, Role
from traded_app.services.council import school_staff, users
from traded_app.services.platform import csv_upload, memberships
from traded_app.services.platform.auth import normalise_email

COLUMNS = ("URN", "name", "email", "role")
KIND = CsvImportKind.STAFF
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
ROLE_WORDS = {
    "headteacher": Role.HEADTEACHER,
    "head teacher": Role.HEADTEACHER,
    "head": Role.HEADTEACHER,
    "school business manager": Role.SCHOOL_BUSINESS_MANAGER,
    "business manager": Role.SCHOOL_BUSINESS_MANAGER,
    "sbm": Role.SCHOOL_BUSINESS_MANAGER,
}

CREATE, ADD, CHANGE, RESEND, NOTHING, REFUSE = (
    "create",
    "add",
    "change",
    "resend",
    "nothing",
    "refuse",
)
ACTION_LABELS = {
    CREATE: "Invited",
    ADD: "Added to another school",
    CHANGE: "Role changed",
    RESEND: "Invitation sent again",
    NOTHING: "No change",
    REFUSE: "Refused",
}


@dataclass
class Row:
    line: int
    urn: str
    name: str
    email: str
    role: str
    action: str = CREATE
    reason: str = ""
    school_name: str = ""

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _role_of(raw: str) -> Role | None:
    return ROLE_WORDS.get(" ".join(raw.replace("_", " ").split()).lower())


def _schools(urns: set[int]) -> dict[int, School]:
    if not urns:
        return {}
    found = db.session.execute(select(School).where(School.urn.in_(urns))).scalars()
    return {school.urn: school for school in found}


def _accounts(emails: set[str]) -> dict[str, User]:
    if not emails:
        return {}
    found = db.session.execute(select(User).where(func.lower(User.email).in_(emails))).scalars()
    return {user.email.lower(): user for user in found}


def _roles_at(user_ids: set[int]) -> dict[tuple[int, int], Role]:
    """Each account's role at each of its schools, by (user id, school id)."""
    if not user_ids:
        return {}
    found = db.session.execute(
        select(SchoolMembership.user_id, SchoolMembership.school_id, SchoolMembership.role).where(
            SchoolMembership.user_id.in_(user_ids)
        )
    ).tuples()
    return {(user_id, school_id): role for user_id, school_id, role in found}


def check(raw_rows: list[dict[str, Any]]) -> list[Row]:
    """What confirming each row would do now, and why a refused row is refused."""
    rows = [
        Row(
            int(r["line"]),
            str(r["urn"]),
            str(r["name"]),
            normalise_email(str(r["email"])),
            str(r["role"]),
        )
        for r in raw_rows
    ]
    schools = _schools({u for r in rows if (u := whole_number(r.urn)) is not None})
    accounts = _accounts({r.email for r in rows})
    roles = _roles_at({a.id for a in accounts.values()})
    first_line: dict[str, int] = {}
    for row in rows:
        row.reason = _refusal(row, schools, first_line) or ""
        if row.reason:
            row.action = REFUSE
            continue
        school = schools[int(row.urn)]
        row.school_name = school.name
        account = accounts.get(row.email)
        _against_account(
            row, account, school, roles.get((account.id, school.id)) if account else None
        )
    return rows


def _refusal(row: Row, schools: dict[int, School], first_line: dict[str, int]) -> str | None:
    """Why the row cannot be applied whatever accounts exist, or None."""
    if not row.name:
        return "No name"
    if len(row.name) > 120:
        return "The name is longer than 120 characters"
    if not EMAIL.match(row.email) or len(row.email) > 254:
        return f"“{row.email}” is not an e-mail address" if row.email else "No e-mail address"
    if row.email in first_line:
        return f"The same e-mail address as line {first_line[row.email]}"
    first_line[row.email] = row.line
    if _role_of(row.role) is None:
        return f"“{row.role}” is not a role: use headteacher or school business manager"
    urn = whole_number(row.urn)
    if urn is None:
        return f"“{row.urn}” is not a URN" if row.urn else "No URN"
    school = schools.get(urn)
    if school is None:
        return f"There is no school with URN {urn}"
    if not school.is_open:
        return f"{school.name} is closed"
    return None


def _against_account(
    row: Row, account: User | None, school: School, role_there: Role | None
) -> None:
    role = _role_of(row.role)
    assert role is not None  # checked by _refusal
    row.role = role.label
    if account is None:
        row.action, row.reason = CREATE, f"A new account as {role.label.lower()}"
    elif account.role not in SCHOOL_ROLES:
        row.action, row.reason = REFUSE, "This e-mail address belongs to a council account"
    elif not account.active:
        row.action, row.reason = REFUSE, "This account is deactivated: reactivate it on its page"
    elif role_there is None:
        other = account.school.name if account.school else "another school"
        row.action = ADD
        row.reason = (
            f"Already has an account at {other}: gets a role here too, as {role.label.lower()}"
        )
    elif role_there != role:
        row.action = CHANGE
        row.reason = f"Role changes from {role_there.label.lower()} to {role.label.lower()}"
    elif not users.has_password(account):
        row.action, row.reason = RESEND, "Invited before and not yet accepted: sent again"
    else:
        row.action, row.reason = NOTHING, "Already has this role at this school"


def _first_school_of(row: Row) -> int | None:
    account = users.find_user_by_email(row.email)
    return account.school.urn if account is not None and account.school else None


def preview(stream: IO[bytes], filename: str, by: User, max_bytes: int) -> CsvImport:
    """Read and check the file; keep its rows for confirming. CsvFileError if it cannot be."""
    read = csv_upload.read_csv(stream, COLUMNS, max_bytes=max_bytes)
    raw = [
        {
            "line": r.line,
            "urn": r.values["URN"],
            "name": r.values["name"],
            "email": r.values["email"],
            "role": r.values["role"],
        }
        for r in read
    ]
    return csv_upload.store(KIND, filename, raw, by)


def apply(record: CsvImport, by: User) -> dict[str, int]:
    """Do what each row says now (checked again); refused rows change nothing. Counts by action."""
    csv_upload.lock_previewed(record)
    counts = dict.fromkeys(ACTION_LABELS, 0)
    for row in check(csv_upload.rows_of(record)):
        counts[row.action] += 1
        role = _role_of(row.role)
        if row.action == REFUSE or role is None:
            continue
        details = users.UserDetails(row.name, row.email, role, int(row.urn))
        if row.action == CREATE:
            users.invite(details, by)
        elif row.action == CHANGE and _first_school_of(row) == int(row.urn):
            # The role at their first school: the account keeps its name.
            account = users.find_user_by_email(row.email)
            assert account is not None
            users.update_user(
                account, users.UserDetails(account.name, account.email, role, int(row.urn)), by
            )
        elif row.action in (ADD, CHANGE):  # a role at another of their schools
            account = users.find_user_by_email(row.email)
            school = db.session.execute(
                select(School).where(School.urn == int(row.urn))
            ).scalar_one()
            assert account is not None
            added = memberships.membership(account.id, school.id) is None
            memberships.add(account, school.id, role)
            if added:
                school_staff.tell_of_new_school(account, school, role, by)
        elif row.action == RESEND:
            account = users.find_user_by_email(row.email)
            assert account is not None
            users.send_invitation(account, by)
    csv_upload.mark_applied(record, by)
    return counts
