"""Demo visit reports: the demo schools' delivered visits have their reports, sent a few days
after the visit (one sent after its deadline, so the service manager's list of late reports has
one), and a visit still within its deadline has a draft the adviser has yet to send."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    SchoolMembership,
    User,
    Visit,
    VisitReport,
    VisitStatus,
)
from traded_app.models.types import Role
from traded_app.services.days import activities, visit_reports
from traded_app.services.documents import visit_report_pdf
from traded_app.services.platform.settings import today

LONDON = ZoneInfo("Europe/London")
DONE = [
    "Went through the school's latest data with the headteacher and the assessment lead: "
    "reading at the end of Key Stage 2 is strong, writing for disadvantaged pupils lags.",
    "Reviewed the self-evaluation and the school improvement plan with the senior team; "
    "agreed which priorities to evidence before an inspection.",
    "Met the new headteacher and the chair's deputy; walked the school and talked through "
    "the first term's priorities and the support available.",
]
ACTIONS = [
    ("Share the writing analysis with governors", "Headteacher", 21),
    ("Plan moderation of writing with the partnership's schools", "Assessment lead", 42),
    ("Update the self-evaluation summary", "Deputy headteacher", 28),
]


def load_reports(year: AcademicYear) -> int:
    """Reports for the delivered visits of schools with a headteacher's account (once)."""
    heads = set(
        db.session.execute(
            select(SchoolMembership.school_id)
            .join(User, User.id == SchoolMembership.user_id)
            .where(SchoolMembership.role == Role.HEADTEACHER, User.active.is_(True))
        ).scalars()
    )
    delivered = [
        visit
        for visit in db.session.execute(
            select(Visit)
            .where(Visit.academic_year_id == year.id, Visit.status == VisitStatus.DELIVERED)
            .order_by(Visit.visit_date, Visit.id)
        ).scalars()
        if visit.school_id in heads
    ]
    if not delivered or db.session.execute(select(VisitReport.id).limit(1)).first():
        return 0
    activities.ensure_non_negotiable_activities()
    offered = activities.activities()
    made = 0
    for index, visit in enumerate(delivered):
        due = visit_reports.due_on(visit.visit_date)
        details = visit_reports.ReportDetails(
            activity_ids=[offered[index % len(offered)].id] if offered else [],
            what_was_done=DONE[index % len(DONE)],
            actions=[
                visit_reports.ActionDetails(what, who, visit.visit_date + timedelta(days=days))
                for what, who, days in ACTIONS[: 1 + index % 2]
            ],
            next_visit="to_be_arranged",
        )
        report = visit_reports.save_draft(visit, visit.adviser, details)
        made += 1
        if due >= today():
            continue  # still within its deadline: a draft the adviser has to send
        sent_on = due + timedelta(days=5) if index == 0 else visit.visit_date + timedelta(days=3)
        sent_on = min(sent_on, today())
        at = datetime.combine(sent_on, time(16), tzinfo=LONDON)
        visit_report_pdf.send(report, visit.adviser, at=at)
    return made
