"""Every route with something real to point at: the records that give each URL an id, and the
URL arguments built from them. Shared by the tests that walk `app.url_map` (route × role
access, no writes on GET, the fuzz of every POST)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from tests.brokering_helpers import brokering_for_access
from tests.brokering_money_helpers import payout_for_access
from tests.course_factories import courses_for_access
from tests.factories import (
    calendar_for_access,
    card_payment_for_access,
    charged_order,
    csv_imports_for_access,
    delivered_visit_for_access,
    export_for_access,
    finished_invoice_run,
    gias_import_for_access,
    make_school,
    payment_for_access,
    quote_and_terms_for_access,
    remittance_for_access,
    submitted_order,
    visit_and_closure_for_access,
)
from tests.partnership_factories import confirmed_partnership_order, placed_partnership_order
from tests.plans_factories import asked, plan_for_access
from tests.setup_helpers import png_bytes
from traded_app.extensions import db
from traded_app.models.types import Role
from traded_app.services.council import conversions, setup
from traded_app.services.council import users as users_admin
from traded_app.services.days import activities, school_calendar, visit_reports, visits
from traded_app.services.documents import consolidated, visit_report_pdf
from traded_app.services.platform.settings import today
from traded_app.views.trust_ordering import ACTING_FOR_KEY


def conversion_for_access(world: Any) -> Any:
    """Hilltop converting to an academy next month (confirming it is refused until then)."""
    academy = make_school(
        400009,
        "Hilltop Academy",
        quadrant=world.quadrant,
        academy=True,
        predecessor_id=world.other_school.id,
    )
    conversions.record(world.other_school.id, academy.id, today() + timedelta(days=30), None)
    db.session.commit()
    return conversions.pending_for(world.other_school.id)


def ordering_for(client: Any, school: Any) -> None:
    """The trust person signed in on `client` has chosen to order for `school` (as the
    academy page's "Order days" button does), without going through that page."""
    with client.session_transaction() as session:
        session[ACTING_FOR_KEY] = school.id


def add_one_of_everything(world: Any) -> Any:
    """A submitted order, a visit and a closure day, a delivered visit to rate, a term with
    INSET days (the council's and a school's) and the adviser's calendar feed, an issued
    invoice, an invoice run, a payment, a GIAS import, a credit note, a held card payment and a
    finance export: one of each thing a URL names. Card payments need Stripe, answered by the
    `stripe_fake` fixture."""
    world.order = submitted_order(world)
    world.visit, world.closure = visit_and_closure_for_access(world)
    world.delivered_visit = delivered_visit_for_access(world)
    world.report_visit = visit_report_for_access(world)
    world.term, world.council_inset, world.school_inset = calendar_for_access(world)
    _order, world.document = charged_order(world)
    world.run = finished_invoice_run(world)
    world.payment = payment_for_access(world)
    world.gias_import = gias_import_for_access(world)
    world.credit_note, world.card_review = card_payment_for_access(world)
    world.export = export_for_access(world)
    world.csv_imports = csv_imports_for_access(world)
    world.conversion = conversion_for_access(world)
    brokering_for_access(world)
    world.payout = payout_for_access(world)
    world.course_session, world.course_booking, world.course_place = courses_for_access(world)
    world.remittance = remittance_for_access(world)
    world.quote, world.terms = quote_and_terms_for_access(world)
    world.partnership_order = placed_partnership_order(world)
    # A confirmed one too, each member charged: its share documents can be credited, it cancelled.
    world.confirmed_partnership_order, world.share_documents = confirmed_partnership_order(world)
    world.council.logo_sha256 = setup.store_logo(setup.check_logo(png_bytes(40, 20)))
    activities.ensure_non_negotiable_activities()
    world.activity = activities.activities()[0]
    world.plan, world.shared_visit = plan_for_access(world)
    world.service_request = asked(world)
    # The trust's finance staff see the records every route is given (the world's school's):
    # here only, so each route's answer to them is its answer to a member's records.
    world.school.trust_id = world.trust.id
    world.trust.staff_may_order = True  # and may order for it, having chosen it (ordering_for)
    world.consolidated_invoice = consolidated_for_access(world)
    db.session.commit()
    return world


def consolidated_for_access(world: Any) -> Any:
    """A consolidated invoice to the world's trust listing an invoice to its academy."""
    _order, document = charged_order(world, 1, school=world.academy)
    return consolidated.issue_for_trust(world.trust, [document], today())


def visit_report_for_access(world: Any) -> Any:
    """A half-day core visit by the world's adviser, delivered on an earlier school day than the
    other visits, with its report sent (version 1)."""
    adviser = world.users[Role.ADVISER]
    day = world.visit.visit_date - timedelta(days=1)
    while day.weekday() >= 5 or school_calendar.bank_holidays(day, day) or day >= today():
        day -= timedelta(days=1)
    visit = visits.schedule(
        visits.NewVisit(world.school, adviser.id, day, 1, visits.CORE, "Data review"),
        world.users[Role.LA_ADMIN],
        booked_on=day,
    )
    visits.deliver(visit, adviser, "Looked at the data")
    activities.ensure_non_negotiable_activities()
    report = visit_reports.save_draft(
        visit, adviser, visit_reports.ReportDetails(what_was_done="Looked at the data")
    )
    visit_report_pdf.send(report, adviser)
    db.session.commit()
    return visit


# The pages of a previewed CSV file, by the kind of file they show.
CSV_IMPORT_ENDPOINTS = {
    "admin.staff_preview": "staff",
    "admin.staff_discard": "staff",
    "opening_balances.preview": "opening_balances",
    "opening_balances.discard": "opening_balances",
}


def url_args(endpoint: str, world: Any) -> dict[str, Any]:
    """The URL arguments of `endpoint` pointing at the world's records (add_one_of_everything)."""
    if endpoint == "static":
        return {"filename": "images/favicon.svg"}
    if endpoint == "school.school_detail":
        return {"urn": world.school.urn}
    if endpoint == "council_days.delete_closure_day":
        return {"closure_id": world.closure.id}
    if endpoint == "feedback.give_feedback":
        return {"visit_id": world.delivered_visit.id}
    if endpoint.startswith("visit_reports.") and endpoint != "visit_reports.late_reports":
        version = {"version": 1} if endpoint == "visit_reports.report_pdf" else {}
        return {"visit_id": world.report_visit.id, **version}
    if endpoint == "adviser_calendar.feed":
        return {"token": world.users[Role.ADVISER].calendar_token}
    if endpoint == "invoice_schedules.edit_schedule":
        return {"route": "invoice"}
    if endpoint == "term_dates.delete_term":
        return {"term_id": world.term.id}
    if endpoint == "term_dates.delete_council_inset_day":
        return {"inset_id": world.council_inset.id}
    if endpoint == "term_dates.delete_school_inset_day":
        return {"inset_id": world.school_inset.id}
    rule = next(r for r in current_app.url_map.iter_rules() if r.endpoint == endpoint)
    args: dict[str, Any] = {}
    if "engagement_id" in rule.arguments:
        args["engagement_id"] = world.engagement.id
    if "payout_id" in rule.arguments:
        args["payout_id"] = world.payout.id
    if "delivery_id" in rule.arguments:
        args["delivery_id"] = world.delivery.id
    if "request_id" in rule.arguments:
        args["request_id"] = world.support_request.id
    if "entry_id" in rule.arguments:
        args["entry_id"] = world.entry_id
    if "area_id" in rule.arguments:
        args["area_id"] = world.area_id
    if endpoint.startswith("brokering.") and "offer_id" in rule.arguments:
        args["offer_id"] = world.own_offer.id
    if endpoint.startswith("brokering_council.") and "offer_id" in rule.arguments:
        args["offer_id"] = world.listed_offer_id
    if "order_id" in rule.arguments:
        args["order_id"] = world.order.id
    if "service_id" in rule.arguments:
        args["service_id"] = world.service.id
    if "urn" in rule.arguments:
        args["urn"] = world.school.urn
    if "visit_id" in rule.arguments:
        args["visit_id"] = world.visit.id
    if "document_id" in rule.arguments:
        args["document_id"] = world.document.id
    if "run_id" in rule.arguments:
        args["run_id"] = world.run.id
    if "payment_id" in rule.arguments:
        args["payment_id"] = world.payment.id
    if "import_id" in rule.arguments:
        args["import_id"] = world.gias_import.id
        if endpoint in CSV_IMPORT_ENDPOINTS:
            args["import_id"] = world.csv_imports[CSV_IMPORT_ENDPOINTS[endpoint]].id
    if "partnership_id" in rule.arguments:
        args["partnership_id"] = world.partnership.id
    if "item_id" in rule.arguments:
        args["item_id"] = world.plan.items[-1].id
    if "shared_id" in rule.arguments:
        args["shared_id"] = world.shared_visit.id
    if endpoint.startswith("requests.") and "request_id" in rule.arguments:
        args["request_id"] = world.service_request.id
    if "activity_id" in rule.arguments:
        args["activity_id"] = world.activity.id
    if "trust_id" in rule.arguments:
        args["trust_id"] = world.trust.id
    if "invoice_id" in rule.arguments:
        args["invoice_id"] = world.consolidated_invoice.id
    if "quadrant_id" in rule.arguments:
        args["quadrant_id"] = world.quadrant.id
    if "conversion_id" in rule.arguments:
        args["conversion_id"] = world.conversion.id
    if "school_id" in rule.arguments:
        args["school_id"] = world.other_school.id
    if "user_id" in rule.arguments:
        # Another user than any signed-in role, so deactivating them spoils nothing.
        args["user_id"] = world.academy_sbm.id
    if "start_year" in rule.arguments:
        args["start_year"] = world.year.start_year
    if "key" in rule.arguments:
        args["key"] = "catalogue"
    if "action" in rule.arguments:
        args["action"] = "retire"  # refused with a message: the team serves districts
    if endpoint == "card_payments.refund":
        args["document_id"] = world.credit_note.id
    if endpoint == "partnership_orders.credit_share":
        args["document_id"] = world.share_documents[0].id
    if "email_id" in rule.arguments:
        args["email_id"] = 1  # none yet: sending it again is refused with a message
    if "remittance_id" in rule.arguments:
        args["remittance_id"] = world.remittance.id
    if "quote_id" in rule.arguments:
        args["quote_id"] = world.quote.id
    if "terms_id" in rule.arguments:
        args["terms_id"] = world.terms.id
    if "export_id" in rule.arguments:
        args["export_id"] = world.export.id
    if "partnership_order_id" in rule.arguments:
        args["partnership_order_id"] = world.partnership_order.id
        if endpoint in ("partnership_orders.cancel_order", "partnership_orders.new_visit"):
            args["partnership_order_id"] = world.confirmed_partnership_order.id
    if "review_id" in rule.arguments:
        args["review_id"] = world.card_review.id
    if "number" in rule.arguments:
        args["number"] = world.document.number
    if "course_id" in rule.arguments:
        args["course_id"] = world.course_session.course_id
    if "session_id" in rule.arguments:
        args["session_id"] = world.course_session.id
    if "booking_id" in rule.arguments:
        args["booking_id"] = world.course_booking.id
    if "place_id" in rule.arguments:
        args["place_id"] = world.course_place.id
    if "token" in rule.arguments:
        salt = (
            users_admin.INVITE_SALT if endpoint == "auth.accept_invite" else users_admin.RESET_SALT
        )
        args["token"] = users_admin.make_token(world.academy_sbm, salt)
    return args
