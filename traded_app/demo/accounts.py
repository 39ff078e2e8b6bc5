"""The demo accounts: a person in every role, at the demo schools or the council, all with the
published demo password (production refuses to start while the demo is loaded)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from traded_app.demo.records import one
from traded_app.extensions import db
from traded_app.models import School, User
from traded_app.models.types import Role

DEMO_PASSWORD = "demo-password"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    school: str  # a key of schools.DEMO_SCHOOLS, or "" for council staff


DEMO_ACCOUNTS = [
    DemoAccount("sbm@example.org", "Sam Patel", Role.SCHOOL_BUSINESS_MANAGER, "maintained"),
    DemoAccount("head@example.org", "Helen Carter", Role.HEADTEACHER, "maintained"),
    DemoAccount("sbm2@example.org", "Alex Morgan", Role.SCHOOL_BUSINESS_MANAGER, "academy"),
    DemoAccount("finance@example.org", "Fiona Reed", Role.LA_FINANCE, ""),
    DemoAccount("admin@example.org", "Adam Shah", Role.LA_ADMIN, ""),
    DemoAccount("adviser@example.org", "Priya Evans", Role.ADVISER, ""),
    DemoAccount("head2@example.org", "Daniel Okafor", Role.HEADTEACHER, "academy"),
    DemoAccount("sbm3@example.org", "Jo Whitfield", Role.SCHOOL_BUSINESS_MANAGER, "myland"),
    DemoAccount("head3@example.org", "Ruth Adeyemi", Role.HEADTEACHER, "myland"),
    DemoAccount("sbm4@example.org", "Chris Lowe", Role.SCHOOL_BUSINESS_MANAGER, "delasalle"),
    DemoAccount("head4@example.org", "Marcus Bell", Role.HEADTEACHER, "delasalle"),
    DemoAccount("sbm5@example.org", "Sophie Grant", Role.SCHOOL_BUSINESS_MANAGER, "frinton"),
    DemoAccount("sbm6@example.org", "Tom Barker", Role.SCHOOL_BUSINESS_MANAGER, "langenhoe"),
    DemoAccount("sbm7@example.org", "Aisha Khan", Role.SCHOOL_BUSINESS_MANAGER, "homefarm"),
    DemoAccount("sbm8@example.org", "Lee Harper", Role.SCHOOL_BUSINESS_MANAGER, "williamread"),
    DemoAccount("sbm9@example.org", "Nina Walsh", Role.SCHOOL_BUSINESS_MANAGER, "bocking"),
    DemoAccount("sbm10@example.org", "Owen Price", Role.SCHOOL_BUSINESS_MANAGER, "greatbentley"),
    DemoAccount("sbm11@example.org", "Grace Fielding", Role.SCHOOL_BUSINESS_MANAGER, "lincewood"),
    # Also business manager at De La Salle (demo.memberships): switches school in the header.
    DemoAccount("sbm12@example.org", "Morgan Ellis", Role.SCHOOL_BUSINESS_MANAGER, "myland"),
]
COUNCIL_ADMIN = "admin@example.org"


def accounts(demo_schools: dict[str, School], password_hash: str) -> list[User]:
    users = []
    for account in DEMO_ACCOUNTS:
        school = demo_schools.get(account.school)
        user = one(User, email=account.email)
        if user is None:
            user = User(email=account.email, password_hash=password_hash)
            db.session.add(user)
        user.name = account.name
        user.role = account.role
        user.school_id = school.id if school else None
        user.active = True
        users.append(user)
    db.session.flush()
    return users


def demo_account_lines() -> list[str]:
    lines = []
    for account in DEMO_ACCOUNTS:
        user = one(User, email=account.email)
        where = f" ({user.school.name}, URN {user.school.urn})" if user and user.school else ""
        lines.append(f"  {account.email:<22} {account.role.label}{where}")
    # The trust's finance lead, whom the trust demo adds (demo/trusts.py).
    trust_staff = db.session.scalars(
        select(User).where(User.role == Role.TRUST_FINANCE, User.email.endswith("@example.org"))
    )
    for user in trust_staff:
        where = f" ({user.trust.name})" if user.trust else ""
        lines.append(f"  {user.email:<22} {user.role.label}{where}")
    return lines
