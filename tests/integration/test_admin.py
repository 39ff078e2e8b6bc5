"""The service manager's screens: catalogue and prices, schools, partnerships, quadrant teams,
users (invitations, resets, deactivation, the last service manager) and council settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import PASSWORD, charged_order, confirmed_order, make_user, submitted_order
from traded_app.extensions import db
from traded_app.models import (
    CouncilSettings,
    Document,
    Order,
    QuadrantCapacity,
    School,
    Service,
    ServicePrice,
    User,
)
from traded_app.models.types import BillingRoute, Role, VatTreatment
from traded_app.services.council import catalogue as catalogue_admin
from traded_app.services.platform.settings import ensure_academic_year


def _errors(page: Any) -> list[str]:
    return [a.get_text(" ", strip=True) for a in page.soup.select(".govuk-error-summary__list a")]


SERVICE_FORM = {
    "code": "gdpr",
    "name": "Data protection review",
    "description": "A review of the school's data protection.",
    "group": "governance",
    "typical_days": "1",
    "min_days": "0.5",
    "max_days": "2",
    "income_code": "T4599",
    "vat_maintained": "outside_scope",
    "rate_maintained": "",
    "vat_academy": "standard",
    "rate_academy": "20",
    "vat_other": "exempt",
    "rate_other": "",
}


# --- Catalogue ---------------------------------------------------------------------------------


def test_admin_adds_a_service_and_prices_it_for_next_year(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    page = client.get("/council/manage/services")
    assert page.soup.h1.get_text(strip=True) == "Catalogue and prices"
    response = client.post_form("/council/manage/services/new", SERVICE_FORM)
    assert response.status_code == 302
    service = db.session.execute(select(Service).where(Service.code == "GDPR")).scalar_one()
    assert (service.min_half_days, service.typical_half_days, service.max_half_days) == (1, 2, 4)
    rules = {r.customer_type.value: (r.treatment, r.vat_rate_bp) for r in service.vat_rules}
    assert rules["academy"] == (VatTreatment.STANDARD, 2000)
    assert rules["other"] == (VatTreatment.EXEMPT, 0)
    next_year = world.year.start_year + 1
    # Pages never create a year: the service manager sets next year up first.
    assert client.post_form("/council/manage/academic-years").status_code == 302
    response = client.post_form(
        f"/council/manage/services/{service.id}/prices", {"year": str(next_year), "price": "475"}
    )
    assert response.status_code == 302
    year = ensure_academic_year(next_year)
    price = db.session.execute(
        select(ServicePrice).where(
            ServicePrice.service_id == service.id, ServicePrice.academic_year_id == year.id
        )
    ).scalar_one()
    assert price.price_per_day_pence == 47_500
    page = client.get(f"/council/manage/services/{service.id}")
    assert "£475.00" in text_of(page.soup, "#price-table")


def test_bad_catalogue_input_gets_clear_messages(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    bad = {**SERVICE_FORM, "min_days": "3", "max_days": "2", "rate_academy": "twenty"}
    page = client.post_form("/council/manage/services/new", bad)
    assert page.status_code == 200
    errors = _errors(page)
    assert "Maximum days must be the same as or more than the minimum days" in errors
    assert "VAT rate must be a number, like 20 or 17.5" in errors
    assert page.soup.title.get_text().startswith("Error:")
    page = client.post_form("/council/manage/services/new", {**SERVICE_FORM, "code": "HTPM"})
    assert "Another service already has the code HTPM" in _errors(page)
    page = client.post_form("/council/manage/services/new", {**SERVICE_FORM, "min_days": "0.3"})
    assert any("whole or half number" in e for e in _errors(page))
    page = client.post_form(
        f"/council/manage/services/{world.service.id}/prices",
        {"year": str(world.year.start_year), "price": "450.005"},
    )
    assert any("no more than 2 decimal places" in e for e in _errors(page))
    page = client.post_form(
        f"/council/manage/services/{world.service.id}/prices",
        {"year": str(world.year.start_year), "price": "0"},
    )
    assert "Price per day must be more than £0" in _errors(page)
    assert db.session.execute(select(Service).where(Service.code == "GDPR")).first() is None


def test_price_and_vat_changes_never_alter_orders_or_documents(as_role: Any, world: Any) -> None:
    submitted = submitted_order(world)
    _confirmed, document = charged_order(world, 4, school=world.academy)
    before_order = (submitted.net_pence, submitted.lines[0].price_per_day_pence)
    before_document = (document.gross_pence, document.lines[0].price_per_day_pence)
    client = as_role(Role.LA_ADMIN)
    client.post_form(
        f"/council/manage/services/{world.service.id}/prices",
        {"year": str(world.year.start_year), "price": "999"},
    )
    changed = {
        **SERVICE_FORM,
        "code": world.service.code,
        "name": "Renamed",
        "vat_academy": "reduced",
        "rate_academy": "5",
    }
    assert (
        client.post_form(f"/council/manage/services/{world.service.id}", changed).status_code == 302
    )
    db.session.expire_all()
    order = db.session.get(Order, submitted.id)
    assert (order.net_pence, order.lines[0].price_per_day_pence) == before_order
    doc = db.session.get(Document, document.id)
    assert (doc.gross_pence, doc.lines[0].price_per_day_pence) == before_document
    assert doc.lines[0].service_name != "Renamed"
    # New orders take the new price.
    fresh = submitted_order(world, school=world.academy)
    assert fresh.lines[0].price_per_day_pence == 99_900
    assert fresh.lines[0].vat_rate_bp == 500


def test_retired_service_is_not_offered_but_old_orders_keep_it(as_role: Any, world: Any) -> None:
    order = submitted_order(world)
    client = as_role(Role.LA_ADMIN)
    client.post_form(f"/council/manage/services/{world.service.id}/retire")
    catalogue = as_role(Role.SCHOOL_BUSINESS_MANAGER).get("/catalogue")
    assert "Headteacher performance management" not in text_of(catalogue.soup, "main")
    page = as_role(Role.LA_ADMIN).get(f"/orders/{order.id}")
    assert "Headteacher performance management" in text_of(page.soup, "main")
    client.post_form(f"/council/manage/services/{world.service.id}/reinstate")
    assert db.session.get(Service, world.service.id).active


def test_past_years_prices_cannot_change(world: Any) -> None:
    past = ensure_academic_year(world.year.start_year - 2)
    try:
        catalogue_admin.set_price(world.service, past, 50_000)
    except catalogue_admin.CatalogueError as error:
        assert "has ended" in str(error)
    else:
        raise AssertionError("a past year's price changed")


# --- Schools -----------------------------------------------------------------------------------


def test_admin_edits_a_schools_council_data(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    listing = client.get("/council/manage/schools?q=hilltop", headers={"HX-Request": "true"})
    assert "Hilltop Infant School" in listing.get_data(as_text=True)
    assert listing.soup.find("h1") is None  # a fragment
    form = {
        "billing_route": "recharge",
        "cost_centre": "CC-HILL",
        "billing_contact_name": "Pat Bursar",
        "billing_contact_email": "bursar@hilltop.example",
        "causing_concern": "y",
        "quadrant_id": str(world.quadrant.id),
        "partnership_id": str(world.partnership.id),
        "approval_limit": "1,500.50",
        "po_required": "y",
    }
    response = client.post_form(f"/council/manage/schools/{world.other_school.urn}", form)
    assert response.status_code == 302
    school = db.session.get(School, world.other_school.id)
    assert school.cost_centre == "CC-HILL" and school.causing_concern
    assert school.approval_limit_pence == 150_050 and school.po_required
    assert school.partnership_id == world.partnership.id
    page = client.post_form(
        f"/council/manage/schools/{world.other_school.urn}",
        {**form, "cost_centre": "", "approval_limit": "12.345"},
    )
    errors = _errors(page)
    assert any("no more than 2 decimal places" in e for e in errors)
    page = client.post_form(
        f"/council/manage/schools/{world.other_school.urn}", {**form, "cost_centre": ""}
    )
    assert "Enter the cost centre: an internal recharge is settled against it" in _errors(page)
    history = client.get(f"/council/manage/schools/{world.other_school.urn}")
    assert "cost centre: CC100002 → CC-HILL" in text_of(history.soup, ".app-timeline")


# --- Partnerships and quadrants --------------------------------------------------------------


def test_partnership_membership_and_capacity(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    response = client.post_form(
        "/council/manage/partnerships",
        {"name": "Hilltop cluster", "quadrant_id": str(world.quadrant.id)},
    )
    assert response.status_code == 302
    new_id = int(response.location.rsplit("/", 1)[1])
    client.post_form(f"/council/manage/partnerships/{new_id}/members", {"urn": "100002"})
    assert db.session.get(School, world.other_school.id).partnership_id == new_id
    page = client.post_form(f"/council/manage/partnerships/{new_id}/members", {"urn": "999999"})
    assert "There is no school with URN 999999" in _errors(page)
    page = client.post_form(
        "/council/manage/partnerships",
        {"name": "riverside PARTNERSHIP", "quadrant_id": str(world.quadrant.id)},
    )
    assert "There is already a partnership called riverside PARTNERSHIP" in _errors(page)
    client.post_form(f"/council/manage/partnerships/{new_id}/members/100002/remove")
    assert db.session.get(School, world.other_school.id).partnership_id is None

    confirmed_order(world, 6)  # 3 days sold this year
    year = world.year.start_year
    page = client.post_form(
        f"/council/manage/quadrants/{world.quadrant.id}",
        {"districts": "Chelmsford\nMaldon", f"capacity_{year}": "2"},
    )
    assert any("has already sold 3 days" in e for e in _errors(page))
    response = client.post_form(
        f"/council/manage/quadrants/{world.quadrant.id}",
        {
            "districts": "Chelmsford\nMaldon",
            f"capacity_{year}": "150.5",
            f"capacity_{year + 1}": "90",
        },
    )
    assert response.status_code == 302
    capacities = {
        row.academic_year_id: row.traded_capacity_half_days
        for row in db.session.execute(select(QuadrantCapacity)).scalars()
    }
    assert capacities[world.year.id] == 301
    assert sorted(d.name for d in world.quadrant.districts) == ["Chelmsford", "Maldon"]
    overview = client.get("/council/manage/quadrants")
    assert "3 of 150.5" in text_of(overview.soup, "#quadrants")


# --- Users ---------------------------------------------------------------------------------------


def _outbox(app: Flask) -> list[str]:
    return [p.read_text() for p in sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))]


def _link(mail: str, path: str) -> str:
    found = re.search(rf"http://localhost({path}/[^\s]+)", mail.replace("=\n", ""))
    assert found, mail
    return found.group(1)


def test_invitation_sets_a_password_once(app: Flask, as_role: Any, world: Any, client: Any) -> None:
    before = len(_outbox(app))
    admin = as_role(Role.LA_ADMIN)
    response = admin.post_form(
        "/council/manage/users/new",
        {
            "name": "Nia Head",
            "email": "Nia@Hilltop.example",
            "role": "headteacher",
            "school_urn": "100002",
        },
    )
    assert response.status_code == 302
    user = db.session.execute(select(User).where(User.email == "nia@hilltop.example")).scalar_one()
    assert user.school_id == world.other_school.id
    mails = _outbox(app)
    assert len(mails) == before + 1
    link = _link(mails[-1], "/set-password")
    page = client.get(link)
    assert page.soup.h1.get_text(strip=True) == "Set your password"
    page = client.post_form(link, {"password": "short", "confirm": "short"})
    assert "Password must be at least 12 characters" in _errors(page)
    response = client.post_form(link, {"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    signed_in = client.post_form("/sign-in", {"email": "nia@hilltop.example", "password": PASSWORD})
    assert signed_in.status_code == 302 and "/sign-in" not in signed_in.location
    again = client.get(link)
    assert again.soup.h1.get_text(strip=True) == (
        "This link has already been used or is no longer valid"
    )
    # Duplicate address, a school role without a school.
    page = admin.post_form(
        "/council/manage/users/new",
        {"name": "X", "email": "nia@hilltop.example", "role": "adviser"},
    )
    assert "There is already an account with this email address" in _errors(page)
    page = admin.post_form(
        "/council/manage/users/new",
        {"name": "Y", "email": "y@example.org", "role": "headteacher", "school_urn": ""},
    )
    assert "Enter the URN of the user's school" in _errors(page)


def test_sending_an_invitation_again_cancels_the_earlier_link(
    app: Flask, as_role: Any, world: Any, client: Any
) -> None:
    admin = as_role(Role.LA_ADMIN)
    admin.post_form(
        "/council/manage/users/new",
        {
            "name": "Ola Head",
            "email": "ola@hilltop.example",
            "role": "headteacher",
            "school_urn": "100002",
        },
    )
    first = _link(_outbox(app)[-1], "/set-password")
    user = db.session.execute(select(User).where(User.email == "ola@hilltop.example")).scalar_one()
    assert admin.post_form(f"/council/manage/users/{user.id}/invite", {}).status_code == 302
    second = _link(_outbox(app)[-1], "/set-password")
    assert second != first
    old = client.get(first)
    assert old.soup.h1.get_text(strip=True) == (
        "This link has already been used or is no longer valid"
    )
    assert client.get(second).soup.h1.get_text(strip=True) == "Set your password"
    response = client.post_form(second, {"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302


def test_password_reset_gives_no_hint_and_is_rate_limited(
    app: Flask, client: Any, world: Any
) -> None:
    before = len(_outbox(app))
    known = client.post_form("/reset-password", {"email": "sbm@school.example"})
    unknown = client.post_form("/reset-password", {"email": "nobody@school.example"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda page, email: text_of(page.soup, "main").replace(email, "EMAIL")  # noqa: E731
    assert strip(known, "sbm@school.example") == strip(unknown, "nobody@school.example")
    mails = _outbox(app)
    assert len(mails) == before + 1
    link = _link(mails[-1], "/reset-password")
    old_token = world.users[Role.SCHOOL_BUSINESS_MANAGER].session_token
    response = client.post_form(
        link, {"password": "a new password 123", "confirm": "a new password 123"}
    )
    assert response.status_code == 302
    user = db.session.get(User, world.users[Role.SCHOOL_BUSINESS_MANAGER].id)
    assert user.session_token != old_token  # every old session ends
    statuses = [
        client.post_form("/reset-password", {"email": "sbm@school.example"}).status_code
        for _ in range(4)
    ]
    assert 429 in statuses


def test_deactivating_signs_the_user_out(as_role: Any, world: Any) -> None:
    sbm = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    their_session = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert their_session.get("/school").status_code == 200
    admin = as_role(Role.LA_ADMIN)
    assert admin.post_form(f"/council/manage/users/{sbm.id}/deactivate").status_code == 302
    response = their_session.get("/school")
    assert response.status_code == 302 and "/sign-in" in response.location
    assert not db.session.get(User, sbm.id).active
    again = admin.post_form(f"/council/manage/users/{sbm.id}/reactivate", follow_redirects=True)
    assert f"{sbm.name} can sign in again." in text_of(again.soup, ".govuk-notification-banner")
    db.session.expire_all()
    assert db.session.get(User, sbm.id).active


def test_the_last_service_manager_cannot_be_removed_or_demoted(as_role: Any, world: Any) -> None:
    admin_user = world.users[Role.LA_ADMIN]
    admin = as_role(Role.LA_ADMIN)
    page = admin.post_form(
        f"/council/manage/users/{admin_user.id}",
        {"name": admin_user.name, "email": admin_user.email, "role": "adviser"},
    )
    assert any("only service manager" in e for e in _errors(page))
    assert db.session.get(User, admin_user.id).role == Role.LA_ADMIN
    response = admin.post_form(
        f"/council/manage/users/{admin_user.id}/deactivate", follow_redirects=True
    )
    assert "You cannot deactivate your own account" in text_of(response.soup, "main")
    other = make_user("second@council.example", Role.LA_ADMIN)
    db.session.commit()
    second = as_role(None).sign_in_as(other)
    page = second.post_form(
        f"/council/manage/users/{admin_user.id}/deactivate", follow_redirects=True
    )
    assert not db.session.get(User, admin_user.id).active
    page = admin.get("/council/manage")  # signed out now
    assert page.status_code == 302
    page = second.post_form(
        f"/council/manage/users/{other.id}",
        {"name": other.name, "email": other.email, "role": "la_finance"},
    )
    assert any("only service manager" in e for e in _errors(page))


# --- Council settings --------------------------------------------------------------------------


def _settings_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Testshire County Council",
        "service_name": "Traded services for schools",
        "address": "County Hall\nTestford",
        "postcode": "te1 1st",
        "contact_email": "team@council.example",
        "contact_phone": "01234 567890",
        "vat_number": "GB 123 4567 89",
        "la_code": "881",
        "bank_name": "Bank",
        "bank_account_name": "Testshire",
        "bank_sort_code": "20-00-00",
        "bank_account_number": "12345678",
        "invoice_prefix": "inv",
        "recharge_prefix": "RCH",
        "credit_note_prefix": "CRN",
        "payment_terms_days": "14",
        "invoice_timing": "on_confirmation",
        "financial_year_start_month": "4",
        "default_price": "450",
        "default_approval_limit": "",
        "cancellation_notice_days": "7",
        "visit_report_deadline_days": "10",
        "reminder_interval_days": "21",
        "core_partnership_base": "2",
        "core_partnership_per_school": "1",
        "core_unpartnered": "0.5",
        "core_causing_concern": "3",
        "core_special_or_pru": "2",
        "core_enhanced_provision": "1",
        "core_headteacher_recruitment": "1",
        "reminders_on": "no",
        "friendly_note_days": "7",
        "reminders_before_final": "2",
        "reminder_send_time": "09:00",
        "final_notice_text": "The debt goes to the council's debt recovery team.",
        "backup_time": "02:00",
        "backups_kept": "14",
        "pdf_check_time": "03:00",
    }
    form.update(changes)
    return form


def test_settings_are_validated_and_saved(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    assert admin.get("/council/manage/settings").soup.h1.get_text(strip=True) == "Council settings"
    page = admin.post_form(
        "/council/manage/settings",
        _settings_form(
            la_code="88",
            bank_sort_code="2000",
            payment_terms_days="400",
            reminder_interval_days="0",
            default_price="450.001",
            core_unpartnered="0.25",
            recharge_prefix="INV",
        ),
    )
    errors = _errors(page)
    assert "Local authority code must be 3 digits, like 881" in errors
    assert "Sort code must be 6 digits, like 20-00-00" in errors
    assert "Payment terms (days) must be a whole number from 0 to 365" in errors
    assert (
        "Days between reminders of an overdue invoice must be a whole number from 1 to 365"
        in errors
    )
    assert any("no more than 2 decimal places" in e for e in errors)
    assert any(e.startswith("Visit for a school in no partnership") for e in errors)
    assert db.session.get(CouncilSettings, 1).payment_terms_days == 30
    page = admin.post_form("/council/manage/settings", _settings_form(recharge_prefix="INV"))
    assert "Invoices, recharges and credit notes each need their own prefix" in _errors(page)
    assert admin.post_form("/council/manage/settings", _settings_form()).status_code == 302
    settings = db.session.get(CouncilSettings, 1)
    assert settings.payment_terms_days == 14 and settings.invoice_prefix == "INV"
    assert settings.postcode == "TE1 1ST" and settings.core_unpartnered_half_days == 1
    assert settings.la_code == "881" and settings.default_approval_limit_pence is None
    assert settings.reminder_interval_days == 21


def test_academic_years_added_and_moved(as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    admin.post_form("/council/manage/academic-years")
    start = world.year.start_year
    page = admin.post_form(
        f"/council/manage/academic-years/{start}",
        {"starts_on": ["1", "9", str(start)], "ends_on": ["1", "9", str(start + 1)]},
    )
    assert any("overlap" in e for e in _errors(page))
    response = admin.post_form(
        f"/council/manage/academic-years/{start}",
        {"starts_on": ["2", "9", str(start)], "ends_on": ["30", "8", str(start + 1)]},
    )
    assert response.status_code == 302
    assert db.session.get(type(world.year), world.year.id).starts_on.day == 2


def test_billing_route_choice_is_offered(as_role: Any, world: Any) -> None:
    page = as_role(Role.LA_ADMIN).get(f"/council/manage/schools/{world.academy.urn}")
    checked = page.soup.select_one("input[name=billing_route][checked]")
    assert checked is not None and checked["value"] == BillingRoute.INVOICE.value
