"""Every route as every role: refused or allowed exactly as designed.

EXPECTED is the design. A new route fails `test_every_route_is_in_the_design` until its access
is written down here, so no route ships without someone deciding who may use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for

from tests.routes import add_one_of_everything, ordering_for, url_args
from traded_app.models.types import COUNCIL_ROLES, SCHOOL_ROLES, Role

ANON = None
ALL = frozenset(Role)
PUBLIC = "public"

EXPECTED: dict[str, Any] = {
    "static": PUBLIC,
    "main.home": PUBLIC,
    "main.accessibility": PUBLIC,
    "health.healthz": PUBLIC,
    "auth.sign_in": PUBLIC,
    "auth.sign_out": ALL,
    "school.dashboard": SCHOOL_ROLES,
    "orders.catalogue": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "orders.set_line_days": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "orders.check_answers": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "orders.same_as_this_year": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "orders.details": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "orders.submitted": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "orders.po_number": SCHOOL_ROLES,
    "quotes.new_quote": SCHOOL_ROLES,
    "quotes.quote_detail": ALL,
    "quotes.quote_pdf": ALL,
    "quotes.order_from_quote": SCHOOL_ROLES,
    "quotes.terms_version": ALL,
    "quotes.terms_list": {Role.LA_ADMIN},
    "quotes.publish_terms": {Role.LA_ADMIN},
    "orders.order_list": SCHOOL_ROLES,
    "orders.order_detail": ALL,
    "orders.approve": {Role.HEADTEACHER},
    "orders.reject": {Role.HEADTEACHER},
    "orders.withdraw": SCHOOL_ROLES,
    "orders.request_cancellation": SCHOOL_ROLES,
    "orders.confirm": {Role.LA_ADMIN},
    "orders.decline": {Role.LA_ADMIN},
    "orders.cancel": {Role.LA_ADMIN},
    "orders.keep": {Role.LA_ADMIN},
    "council.order_queue": COUNCIL_ROLES,
    "school.school_detail": ALL,
    "school.ordering_rules": {Role.HEADTEACHER},
    "school_details.check": SCHOOL_ROLES,
    "school_details.change": SCHOOL_ROLES,
    "school_details.confirm": {Role.SCHOOL_BUSINESS_MANAGER},
    "school_details.council_change": {Role.LA_ADMIN},
    "memberships.switch_school": SCHOOL_ROLES,
    "memberships.school_people": SCHOOL_ROLES,
    "council.dashboard": COUNCIL_ROLES,
    "council.schools": COUNCIL_ROLES,
    "days.my_days": SCHOOL_ROLES,
    "days.school_days": ALL,
    "days.visits_csv": ALL,
    "visits.calendar": {Role.ADVISER, Role.LA_ADMIN},
    "visits.new_visit": {Role.ADVISER, Role.LA_ADMIN},
    "visits.visit_detail": COUNCIL_ROLES,
    "visits.deliver": {Role.ADVISER, Role.LA_ADMIN},
    "visits.cancel": {Role.ADVISER, Role.LA_ADMIN},
    "council_days.overview": COUNCIL_ROLES,
    "council_days.allocations_page": {Role.LA_ADMIN},
    "council_days.generate_allocations": {Role.LA_ADMIN},
    "council_days.school_allocation": {Role.LA_ADMIN},
    "council_days.closure_days": {Role.LA_ADMIN},
    "council_days.delete_closure_day": {Role.LA_ADMIN},
    "term_dates.council_term_dates": {Role.LA_ADMIN},
    "term_dates.add_council_inset_day": {Role.LA_ADMIN},
    "term_dates.delete_term": {Role.LA_ADMIN},
    "term_dates.delete_council_inset_day": {Role.LA_ADMIN},
    "term_dates.upload_term_dates": {Role.LA_ADMIN},
    "term_dates.confirm_term_dates": {Role.LA_ADMIN},
    "term_dates.school_inset_days": SCHOOL_ROLES,
    "term_dates.delete_school_inset_day": SCHOOL_ROLES,
    "visits.record_visit": {Role.ADVISER, Role.LA_ADMIN},
    "adviser_calendar.month": {Role.ADVISER, Role.LA_ADMIN},
    "adviser_calendar.calendar_feed": {Role.ADVISER, Role.LA_ADMIN},
    "adviser_calendar.feed": PUBLIC,
    "adviser_calendar.adviser_load": {Role.LA_ADMIN},
    "feedback.give_feedback": {Role.HEADTEACHER},
    "feedback.ratings": {Role.LA_ADMIN},
    "plans.plan_list": COUNCIL_ROLES,
    "plans.plan_page": COUNCIL_ROLES,
    "plans.school_plan": SCHOOL_ROLES,
    "plans.start_plan": {Role.LA_ADMIN},
    "plans.edit_item": {Role.ADVISER, Role.LA_ADMIN},
    "plans.remove_item": {Role.ADVISER, Role.LA_ADMIN},
    "plans.agree": {Role.ADVISER, Role.LA_ADMIN},
    "plans.new_shared_visit": {Role.ADVISER, Role.LA_ADMIN},
    "plans.shared_visit": COUNCIL_ROLES,
    "plans.deliver_shared": {Role.ADVISER, Role.LA_ADMIN},
    "plans.cancel_shared": {Role.ADVISER, Role.LA_ADMIN},
    "requests.school_requests": SCHOOL_ROLES,
    "requests.new_request": SCHOOL_ROLES,
    "requests.school_request": SCHOOL_ROLES,
    "requests.council_requests": {Role.LA_ADMIN},
    "requests.council_request": {Role.LA_ADMIN},
    "requests.decline_request": {Role.LA_ADMIN},
    "visit_reports.write_report": {Role.ADVISER, Role.LA_ADMIN},
    "visit_reports.correct_report": {Role.ADVISER, Role.LA_ADMIN},
    "visit_reports.report_pdf": {
        Role.ADVISER,
        Role.LA_ADMIN,
        Role.HEADTEACHER,
        Role.SCHOOL_BUSINESS_MANAGER,
    },
    "visit_reports.late_reports": {Role.LA_ADMIN},
    "courses.listing": SCHOOL_ROLES,
    "courses.book": SCHOOL_ROLES,
    "courses.my_bookings": SCHOOL_ROLES,
    "courses.booking_detail": SCHOOL_ROLES | {Role.LA_ADMIN, Role.LA_FINANCE},
    "courses.approve": {Role.HEADTEACHER},
    "courses.reject": {Role.HEADTEACHER},
    "courses.substitute": SCHOOL_ROLES,
    "courses.cancel_place": SCHOOL_ROLES,
    "courses.accept_offer": SCHOOL_ROLES,
    "courses.decline_offer": SCHOOL_ROLES,
    "courses.certificate": SCHOOL_ROLES | {Role.LA_ADMIN},
    "courses.register": {Role.LA_ADMIN, Role.ADVISER},
    "council_courses.courses": {Role.LA_ADMIN},
    "council_courses.new_course": {Role.LA_ADMIN},
    "council_courses.course_detail": {Role.LA_ADMIN},
    "council_courses.new_session": {Role.LA_ADMIN},
    "council_courses.session_detail": {Role.LA_ADMIN, Role.ADVISER},
    "council_courses.delegates_csv": {Role.LA_ADMIN, Role.ADVISER},
    "council_courses.cancel_session": {Role.LA_ADMIN},
    "council_courses.training": {Role.LA_ADMIN, Role.ADVISER},
    "documents.school_documents": SCHOOL_ROLES,
    "documents.document_detail": ALL,
    "documents.document_pdf": ALL,
    "documents.send_again": {Role.LA_FINANCE, Role.LA_ADMIN},
    "finance.export_detail": {Role.LA_FINANCE},
    "finance.export_file": {Role.LA_FINANCE},
    "finance.rebuild_export": {Role.LA_FINANCE},
    "background.emails_not_sent": {Role.LA_FINANCE, Role.LA_ADMIN},
    "background.send_email_again": {Role.LA_FINANCE, Role.LA_ADMIN},
    "background.schedule_runs": {Role.LA_FINANCE, Role.LA_ADMIN},
    "background.pdf_check_page": {Role.LA_FINANCE, Role.LA_ADMIN},
    "documents.council_invoices": {Role.LA_FINANCE, Role.LA_ADMIN},
    "invoice_schedules.schedules_page": {Role.LA_FINANCE, Role.LA_ADMIN},
    "invoice_schedules.edit_schedule": {Role.LA_FINANCE, Role.LA_ADMIN},
    "documents.start_run": {Role.LA_FINANCE, Role.LA_ADMIN},
    "documents.run_progress": {Role.LA_FINANCE, Role.LA_ADMIN},
    "finance.register_page": {Role.LA_FINANCE, Role.LA_ADMIN},
    "finance.aged_debt_page": {Role.LA_FINANCE, Role.LA_ADMIN},
    "finance.record_payment": {Role.LA_FINANCE},
    "credit_notes.raise_credit_note": {Role.LA_FINANCE},
    "finance.reverse_payment": {Role.LA_FINANCE},
    "finance.settle_recharges": {Role.LA_FINANCE},
    "finance.send_reminders": {Role.LA_FINANCE},
    "finance.pause_document_reminders": {Role.LA_FINANCE},
    "finance.resume_document_reminders": {Role.LA_FINANCE},
    "finance.pause_school_reminders": {Role.LA_FINANCE},
    "finance.resume_school_reminders": {Role.LA_FINANCE},
    "finance.exports_page": {Role.LA_FINANCE},
    "opening_balances.upload": {Role.LA_FINANCE},
    "opening_balances.preview": {Role.LA_FINANCE},
    "opening_balances.discard": {Role.LA_FINANCE},
    "card_payments.pay_link": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "card_payments.pay": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "card_payments.checkout_return": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "card_payments.checkout_cancelled": SCHOOL_ROLES | {Role.TRUST_FINANCE},
    "card_payments.webhook": PUBLIC,
    "trusts.trust_list": {Role.LA_ADMIN},
    "trusts.trust_detail": {Role.LA_ADMIN},
    "trusts.add_academy": {Role.LA_ADMIN},
    "trusts.remove_academy": {Role.LA_ADMIN},
    "trusts.invite_staff": {Role.LA_ADMIN},
    "trusts.trust_home": {Role.TRUST_FINANCE},
    "trusts.trust_academy": {Role.TRUST_FINANCE},
    "trust_ordering.start_order": {Role.TRUST_FINANCE},
    "trusts.trust_statement": {Role.TRUST_FINANCE},
    "trusts.trust_statement_pdf": {Role.TRUST_FINANCE},
    "trusts.trust_statement_csv": {Role.TRUST_FINANCE},
    "trusts.trust_remittances": {Role.TRUST_FINANCE},
    "trusts.finance_trusts": {Role.LA_FINANCE, Role.LA_ADMIN},
    "trusts.council_trust_statement": {Role.LA_FINANCE, Role.LA_ADMIN},
    "trusts.council_trust_statement_pdf": {Role.LA_FINANCE, Role.LA_ADMIN},
    "trusts.council_trust_statement_csv": {Role.LA_FINANCE, Role.LA_ADMIN},
    "trust_invoices.trust_list": {Role.TRUST_FINANCE},
    "trust_invoices.trust_detail": {Role.TRUST_FINANCE},
    "trust_invoices.trust_pdf": {Role.TRUST_FINANCE},
    "trust_invoices.pay": {Role.TRUST_FINANCE},
    "trust_invoices.pay_done": {Role.TRUST_FINANCE},
    "trust_invoices.council_list": {Role.LA_FINANCE, Role.LA_ADMIN},
    "trust_invoices.council_detail": {Role.LA_FINANCE, Role.LA_ADMIN},
    "trust_invoices.council_pdf": {Role.LA_FINANCE, Role.LA_ADMIN},
    "card_payments.reviews": {Role.LA_FINANCE, Role.LA_ADMIN},
    "card_payments.review": {Role.LA_FINANCE},
    "card_payments.refund": {Role.LA_FINANCE},
    "card_payments.reconcile": {Role.LA_FINANCE, Role.LA_ADMIN},
    "card_payments.stripe_settings": {Role.LA_ADMIN},
    "statements.school_statement": SCHOOL_ROLES,
    "statements.school_statement_pdf": SCHOOL_ROLES,
    "statements.school_statement_csv": SCHOOL_ROLES,
    "statements.council_statement": {Role.LA_FINANCE, Role.LA_ADMIN},
    "statements.council_statement_pdf": {Role.LA_FINANCE, Role.LA_ADMIN},
    "statements.council_statement_csv": {Role.LA_FINANCE, Role.LA_ADMIN},
    "statements.send_statement": {Role.LA_FINANCE},
    "statements.statements_page": {Role.LA_FINANCE, Role.LA_ADMIN},
    "statements.send_to_all": {Role.LA_FINANCE},
    "statements.school_remittances": SCHOOL_ROLES,
    "statements.council_remittances": {Role.LA_FINANCE, Role.LA_ADMIN},
    "statements.match_remittance": {Role.LA_FINANCE},
    "statements.remittance_file": SCHOOL_ROLES
    | {Role.LA_FINANCE, Role.LA_ADMIN, Role.TRUST_FINANCE},
    "auth.forgot_password": PUBLIC,
    "auth.reset_password": PUBLIC,
    "auth.accept_invite": PUBLIC,
    **{
        f"brokering.{name}": {Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER}
        for name in (
            "hub",
            "directory",
            "new_offer",
            "offer_page",
            "change_offer",
            "pause_offer",
            "new_request",
            "request_page",
            "choose",
            "withdraw_request",
            "engagement_page",
            "answer",
            "record_delivery",
            "confirm_delivery",
            "withdraw_delivery",
            "rate",
        )
    },
    **{
        f"brokering_council.{name}": {Role.LA_ADMIN, Role.ADVISER}
        for name in (
            "requests_list",
            "request_page",
            "add_to_shortlist",
            "remove_from_shortlist",
            "send_shortlist",
            "close_request",
            "offers",
            "offer_detail",
        )
    },
    **{
        f"brokering_council.{name}": {Role.LA_ADMIN}
        for name in ("assign_broker", "check_offer", "areas", "set_area_active", "demand")
    },
    "brokering.record_provider_invoice": {Role.SCHOOL_BUSINESS_MANAGER, Role.HEADTEACHER},
    "brokering_money.settings": {Role.LA_ADMIN},
    "brokering_money.payouts": {Role.LA_FINANCE, Role.LA_ADMIN},
    "brokering_money.mark_paid": {Role.LA_FINANCE},
    "brokering_money.payouts_csv": {Role.LA_FINANCE},
    "brokering_money.engagements": {Role.LA_FINANCE, Role.LA_ADMIN},
    "brokering_money.engagement_money": {Role.LA_FINANCE, Role.LA_ADMIN},
    "brokering_money.council_record_invoice": {Role.LA_FINANCE, Role.LA_ADMIN},
    **{
        f"admin.{name}": {Role.LA_ADMIN}
        for name in (
            "index",
            "services",
            "new_service",
            "edit_service",
            "set_price",
            "retire_service",
            "reinstate_service",
            "schools",
            "edit_school",
            "gias_upload",
            "gias_preview",
            "gias_discard",
            "partnerships_page",
            "edit_partnership",
            "add_member",
            "remove_member",
            "quadrants",
            "edit_quadrant",
            "users",
            "invite_user",
            "edit_user",
            "deactivate_user",
            "reactivate_user",
            "resend_invite",
            "add_user_school",
            "remove_user_school",
            "conversions_page",
            "confirm_conversion",
            "staff_upload",
            "staff_preview",
            "staff_discard",
            "invitations",
            "send_invitation_again",
            "settings",
            "add_academic_year",
            "edit_academic_year",
            "audit_trail",
            "audit_csv",
            "setup_index",
            "setup_details",
            "setup_logo",
            "setup_la_finance",
            "setup_numbering",
            "setup_task",
            "setup_academic_years",
            "setup_add_quadrant",
            "setup_rename_quadrant",
            "setup_retire_quadrant",
            "setup_catalogue_import",
            "setup_catalogue_confirm",
            "setup_copy_prices",
            "days_rules",
            "year_close_page",
            "year_close_csv",
            "close_year",
            "activities",
            "edit_activity",
            "set_activity_active",
        )
    },
    "admin.next_year": {Role.LA_ADMIN},
    "partnership_orders.order_list": SCHOOL_ROLES,
    "partnership_orders.new_order": SCHOOL_ROLES,
    "partnership_orders.order_detail": SCHOOL_ROLES
    | {Role.LA_ADMIN, Role.LA_FINANCE, Role.TRUST_FINANCE},
    "partnership_orders.approve": {Role.HEADTEACHER},
    "partnership_orders.reject": {Role.HEADTEACHER},
    "partnership_orders.po_number": SCHOOL_ROLES,
    "partnership_orders.withdraw": SCHOOL_ROLES,
    "partnership_orders.council_list": {Role.LA_ADMIN, Role.LA_FINANCE},
    "partnership_orders.confirm": {Role.LA_ADMIN},
    "partnership_orders.decline": {Role.LA_ADMIN},
    "partnership_orders.buying_settings": {Role.LA_ADMIN},
    "partnership_orders.credit_share": {Role.LA_FINANCE},
    "partnership_orders.cancel_order": {Role.LA_ADMIN},
    "partnership_orders.new_visit": {Role.ADVISER, Role.LA_ADMIN},
    "admin.next_year_preview": {Role.LA_ADMIN},
}

ROUTES_SNAPSHOT = Path(__file__).with_name("routes.txt")


def route_list(app: Flask) -> list[str]:
    lines = []
    for rule in app.url_map.iter_rules():
        methods = ",".join(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        lines.append(f"{rule.rule} {methods} {rule.endpoint}")
    return sorted(lines)


def test_every_route_is_in_the_design(app: Flask) -> None:
    assert set(app.view_functions) == set(EXPECTED)


def test_route_list_matches_snapshot(app: Flask) -> None:
    """A changed URL breaks bookmarks and links in e-mails: update routes.txt on purpose."""
    assert route_list(app) == ROUTES_SNAPSHOT.read_text().split("\n")[:-1]


@pytest.mark.parametrize("role", [ANON, *Role], ids=lambda r: r.value if r else "anonymous")
def test_route_access_by_role(
    app: Flask, as_role: Any, world: Any, role: Role | None, stripe_fake: Any
) -> None:
    add_one_of_everything(world)
    for endpoint, allowed in EXPECTED.items():
        client = as_role(role)  # a fresh session each time: signing out must not spoil the rest
        if role == Role.TRUST_FINANCE:
            ordering_for(client, world.school)  # the trust's academy here (add_one_of_everything)
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        with app.test_request_context():
            url = url_for(endpoint, **url_args(endpoint, world))
        if "GET" in (rule.methods or set()):
            response = client.get(url)
        else:
            response = client.post_form(url)
        refused_anon = response.status_code == 302 and "/sign-in?next=" in response.location
        if endpoint == "card_payments.webhook":
            # Public, but only Stripe's signature gets in: an unsigned POST is refused.
            assert response.status_code == 400, (endpoint, role)
        elif allowed == PUBLIC:
            assert response.status_code < 400 and not refused_anon, (endpoint, role)
        elif role is None:
            assert refused_anon, (endpoint, response.status_code)
        elif role in allowed:
            assert response.status_code < 400 and not refused_anon, (
                endpoint,
                role,
                response.status_code,
                response.location,
            )
        else:
            assert response.status_code == 403, (endpoint, role, response.status_code)
            assert "You do not have permission" in response.soup.h1.get_text()


def test_school_user_guessing_another_schools_url_gets_not_found(as_role: Any, world: Any) -> None:
    client = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert client.get(f"/schools/{world.school.urn}").status_code == 200
    for urn in (world.other_school.urn, world.academy.urn, 999999):
        response = client.get(f"/schools/{urn}")
        assert response.status_code == 404
        assert response.soup.h1.get_text(strip=True) == "Page not found"
        assert world.other_school.name not in response.get_data(as_text=True)


def test_council_users_see_any_school(as_role: Any, world: Any) -> None:
    for role in COUNCIL_ROLES:
        response = as_role(role).get(f"/schools/{world.other_school.urn}")
        assert response.status_code == 200
        assert response.soup.h1.get_text(strip=True) == world.other_school.name


def test_htmx_request_when_signed_out_redirects_the_whole_page(client: Any) -> None:
    response = client.get("/council/schools?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in")


@pytest.mark.parametrize("path", ["/schools/999999999999999999999", "/orders/99999999999999999999"])
def test_ids_too_big_for_the_database_are_not_found(as_role: Any, path: str) -> None:
    response = as_role(Role.LA_ADMIN).get(path)
    assert response.status_code == 404
