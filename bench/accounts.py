"""Accounts for load benchmarks: a business manager at each of many schools, and finance officers.

The demo has business managers at eleven schools. A buy-back morning needs hundreds, each at a
school of their own: this adds one to each of the first `count` open schools (by URN) that have
no account yet, so they are the Essex schools of the demo's GIAS extract, with the ordering
rules the demo gave them (approval limits, purchase orders required at about a third). Names
are made up from a short list; e-mail addresses are `bm.<URN>@schools.example.org` and
`finance<N>@example.org`. Every account has the demo password: its hash is copied from a
demo account, so adding hundreds takes one bulk insert rather than hundreds of argon2 hashes.

Works on SQLite and PostgreSQL, and is safe to run again (accounts already there are kept).

    .venv/bin/python bench/accounts.py DATABASE_URL --managers 200 --finance 5
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, insert, select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from traded_app.config import parse_database_url  # noqa: E402 - after the path is set
from traded_app.models import School, User  # noqa: E402
from traded_app.models.base import utcnow  # noqa: E402
from traded_app.models.types import Role, SchoolStatus  # noqa: E402
from traded_app.models.users import new_session_token  # noqa: E402

DEMO_ACCOUNT = "sbm@example.org"  # whose password hash (the demo password) is copied
FIRST = ("Amy", "Ben", "Carla", "Dev", "Ellen", "Farid", "Gemma", "Hugo", "Isla", "Jack")
LAST = ("Ashworth", "Bennett", "Clarke", "Dunn", "Ellis", "Foster", "Gill", "Hussain", "Iqbal")


@dataclass(frozen=True)
class Manager:
    email: str
    school: str
    urn: int


def _password_hash(conn: Connection) -> str:
    found = conn.execute(
        select(User.password_hash).where(User.email == DEMO_ACCOUNT)
    ).scalar_one_or_none()
    if found is None:
        raise SystemExit(f"no {DEMO_ACCOUNT} in the database: run `flask seed-demo` first")
    return str(found)


def _row(email: str, name: str, role: Role, school_id: int | None, password: str) -> dict:
    return {
        "email": email,
        "name": name,
        "password_hash": password,
        "role": role,
        "school_id": school_id,
        "active": True,
        "session_token": new_session_token(),
        "created_at": utcnow(),
    }


def _name(number: int) -> str:
    return f"{FIRST[number % len(FIRST)]} {LAST[(number // len(FIRST)) % len(LAST)]}"


def add_managers(conn: Connection, count: int) -> list[Manager]:
    """A business manager at each of `count` open schools (those with a bench manager already
    first, then schools with no account, by URN); returns them all."""
    users = User.__table__
    schools = conn.execute(
        select(School.id, School.urn, School.name)
        .where(School.status == SchoolStatus.OPEN, School.billing_route.is_not(None))
        .order_by(School.urn)
    ).all()
    staffed = set(conn.execute(select(User.school_id).where(User.school_id.is_not(None))).scalars())
    existing = set(conn.execute(select(User.email).where(User.email.like("bm.%"))).scalars())
    ours = [s for s in schools if f"bm.{s.urn}@schools.example.org" in existing]
    free = [s for s in schools if s.id not in staffed]
    chosen = (ours + free)[:count]
    if len(chosen) < count:
        raise SystemExit(f"only {len(chosen)} open schools have no account; {count} wanted")
    password = _password_hash(conn)
    new = [
        _row(
            f"bm.{s.urn}@schools.example.org",
            _name(s.urn),
            Role.SCHOOL_BUSINESS_MANAGER,
            s.id,
            password,
        )
        for s in chosen
        if f"bm.{s.urn}@schools.example.org" not in existing
    ]
    if new:
        conn.execute(insert(users), new)
    return [Manager(f"bm.{s.urn}@schools.example.org", str(s.name), int(s.urn)) for s in chosen]


def add_finance_officers(conn: Connection, count: int) -> list[str]:
    """`count` council finance officers, finance1@example.org onwards; returns their e-mails."""
    emails = [f"finance{n}@example.org" for n in range(1, count + 1)]
    existing = set(conn.execute(select(User.email).where(User.email.in_(emails))).scalars())
    password = _password_hash(conn)
    new = [
        _row(email, _name(n + 7), Role.LA_FINANCE, None, password)
        for n, email in enumerate(emails)
        if email not in existing
    ]
    if new:
        conn.execute(insert(User.__table__), new)
    return emails


def add_accounts(database_url: str, managers: int, finance: int) -> tuple[list[Manager], list[str]]:
    """Both, in one transaction on `database_url` (any URL the app accepts)."""
    engine = create_engine(parse_database_url(database_url))
    try:
        with engine.begin() as conn:
            return add_managers(conn, managers), add_finance_officers(conn, finance)
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("database_url", help="a migrated, seeded database (changed)")
    parser.add_argument("--managers", type=int, default=200)
    parser.add_argument("--finance", type=int, default=5)
    args = parser.parse_args()
    managers, officers = add_accounts(args.database_url, args.managers, args.finance)
    print(f"{len(managers)} business managers, e.g. {managers[0].email} ({managers[0].school})")
    print(f"{len(officers)} finance officers: {', '.join(officers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
