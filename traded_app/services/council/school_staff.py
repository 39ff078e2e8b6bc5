"""Who has access to a school: its staff and their roles, whether they have accepted their
invitation, and the service manager adding an existing person to another school."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import School, SchoolMembership, User
from traded_app.models.types import SCHOOL_ROLES, Role
from traded_app.services.council.users import UserAdminError, has_password
from traded_app.services.ordering import notifications
from traded_app.services.platform import memberships
from traded_app.services.platform.links import absolute_url
from traded_app.services.platform.settings import council_display


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: Role
    accepted: bool
    active: bool


def people_at(school_id: int) -> list[Person]:
    """Everyone with a role at the school, by name."""
    rows = db.session.execute(
        select(User, SchoolMembership.role)
        .join(SchoolMembership, SchoolMembership.user_id == User.id)
        .where(SchoolMembership.school_id == school_id)
        .order_by(User.name, User.id)
    ).all()
    return [
        Person(user.name, user.email, role, has_password(user), user.active) for user, role in rows
    ]


def add_to_school(user: User, urn: int | None, role: Role, by: User) -> SchoolMembership:
    """Give an existing school user a role at another (open) school too, and tell them by
    e-mail (with the change: the e-mail exists exactly when the role does)."""
    if not user.is_school_user:
        raise UserAdminError("Only school staff can have a role at a school", "school_urn")
    if role not in SCHOOL_ROLES:
        raise UserAdminError("Choose business manager or headteacher", "role")
    if urn is None:
        raise UserAdminError("Enter the URN of the school", "school_urn")
    school = db.session.execute(select(School).where(School.urn == urn)).scalar_one_or_none()
    if school is None:
        raise UserAdminError(f"There is no school with URN {urn}", "school_urn")
    if not school.is_open:
        raise UserAdminError(f"{school.name} is closed: choose an open school", "school_urn")
    if memberships.membership(user.id, school.id) is not None:
        raise UserAdminError(f"{user.name} already has a role at {school.name}", "school_urn")
    added = memberships.add(user, school.id, role)
    tell_of_new_school(user, school, role, by)
    return added


def tell_of_new_school(user: User, school: School, role: Role, by: User) -> None:
    """E-mail a person given a role at another school (here, or by the staff import)."""
    council = council_display()
    if has_password(user):
        how = (
            'Sign in as usual and choose the school under "Switch school" at the top of any '
            f"page:\n{absolute_url('auth.sign_in') or '(the service address is not set)'}\n\n"
        )
    else:
        how = "You can use it once you have set your password from your invitation e-mail.\n\n"
    notifications.queue(
        notifications.Mail(
            to=(user.email,),
            subject=f"You now have a role at {school.name}",
            body=(
                f"Dear {user.name},\n\n"
                f"{by.name} has given you a role at {school.name} (URN {school.urn}) as "
                f"{role.label.lower()} on {council.name}'s {council.service_name}, as well as "
                "your role at your other schools.\n\n"
                f"{how}"
                "If you did not expect this e-mail, tell the council's service manager.\n"
            ),
        ),
        school_id=school.id,
    )


def remove_from_school(user: User, school_id: int) -> None:
    """Take away a role at a school other than the person's first."""
    if school_id == user.school_id:
        raise UserAdminError("This is the person's first school: change it on their account")
    found = memberships.membership(user.id, school_id)
    if found is None:
        return
    db.session.delete(found)
    db.session.flush()
