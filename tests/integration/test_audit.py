"""The audit trail: each kind of change recorded with who, when, from and to; append-only; the
admin's page, filters and CSV."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from tests.conftest import text_of
from tests.factories import book_visit, charged_order, core_allocation, weekday_in_year
from traded_app.extensions import db
from traded_app.models import AuditEvent
from traded_app.models.types import AllocationReason, Role
from traded_app.services.days import allocations, visits
from traded_app.services.ordering import basket
from traded_app.services.platform import append_only, audit


def _events(entity: str, entity_id: Any = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEvent.entity_id == str(entity_id))
    return list(db.session.execute(stmt.order_by(AuditEvent.id)).scalars())


def _changes(event: AuditEvent) -> dict[str, list[Any]]:
    return json.loads(event.changes)  # type: ignore[no-any-return]


def test_each_kind_of_change_is_recorded_with_who_and_what(as_role: Any, world: Any) -> None:
    admin = world.users[Role.LA_ADMIN]
    adviser = world.users[Role.ADVISER]
    # Orders and documents: the council confirms through the app, as the service manager.
    with audit.acting_as(admin):
        order, document = charged_order(world, 2)
    order_events = _events("school_order", order.id)
    statuses = [_changes(e).get("status") for e in order_events if "status" in _changes(e)]
    assert ["draft", "submitted"] in statuses and ["submitted", "confirmed"] in statuses
    confirmed = next(
        e for e in order_events if _changes(e).get("status") == ["submitted", "confirmed"]
    )
    assert confirmed.actor_id == admin.id and admin.email in confirmed.actor_label
    lines = _events("order_line")
    assert lines and _changes(lines[0])["price_per_day_pence"] == [None, 45_000]
    issued = _events("document", document.id)
    assert [e.action for e in issued] == ["created"] and issued[0].entity_label == document.number

    # Visits and allocations.
    core_allocation(world, 4)
    with audit.acting_as(adviser):
        visit = book_visit(world, on=weekday_in_year(world, past=True))
        visits.deliver(visit, adviser, "Met the head")
        db.session.commit()
    visit_events = _events("visit", visit.id)
    assert visit_events[0].action == "created" and visit_events[0].actor_id == adviser.id
    assert _changes(visit_events[-1])["status"] == ["scheduled", "delivered"]
    with audit.acting_as(admin):
        allocations.adjust(
            world.school, world.year, AllocationReason.PARTNERSHIP, 6, "More support", admin
        )
        db.session.commit()
    allocation = _events("core_allocation")[-1]
    assert _changes(allocation)["half_days"] == [4, 6]

    # Prices, settings and users, through the admin's screens (the actor comes from the request).
    client = as_role(Role.LA_ADMIN)
    client.post_form(
        f"/council/manage/services/{world.service.id}/prices",
        {"year": str(world.year.start_year), "price": "460"},
    )
    price = _events("service_price")[-1]
    assert _changes(price)["price_per_day_pence"] == [45_000, 46_000]
    assert price.actor_id == admin.id and price.entity_label.startswith("HTPM ")
    sbm = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    client.post_form(f"/council/manage/users/{sbm.id}/deactivate")
    user_event = _events("user_account", sbm.id)[-1]
    assert _changes(user_event)["active"] == [True, False]
    assert _changes(user_event)["session_token"] == ["(secret)", "(changed)"]  # never the value
    world.council.payment_terms_days = 14
    db.session.commit()
    settings_event = _events("council_settings")[-1]
    assert _changes(settings_event) == {"payment_terms_days": [30, 14]}
    assert settings_event.actor_label == "System"


def test_a_draft_basket_is_not_audited_until_submitted(world: Any) -> None:
    user = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    draft = basket.draft_for(world.school, user, world.year)
    basket.set_days(draft, world.service.id, 3)
    basket.set_days(draft, world.service.id, 4)
    db.session.commit()
    assert _events("school_order") == [] and _events("order_line") == []


def test_a_rolled_back_change_leaves_no_audit_row(world: Any) -> None:
    world.council.payment_terms_days = 7
    db.session.flush()
    db.session.rollback()
    assert [e.action for e in _events("council_settings")] == ["created"]  # the world's set-up


def test_the_trail_is_append_only(world: Any) -> None:
    world.council.payment_terms_days = 7
    db.session.commit()
    event = _events("council_settings")[-1]
    event.actor_label = "Someone else"
    with pytest.raises(append_only.AuditTrailError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(append_only.AuditTrailError):
        db.session.flush()
    db.session.rollback()
    for statement in ("UPDATE audit_event SET actor_label = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DatabaseError, match="audit trail"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.get(AuditEvent, event.id).actor_label == "System"


def test_admin_filters_the_trail_with_htmx_and_plain_links(as_role: Any, world: Any) -> None:
    client = as_role(Role.LA_ADMIN)
    client.post_form(
        f"/council/manage/services/{world.service.id}/prices",
        {"year": str(world.year.start_year), "price": "460"},
    )
    world.council.payment_terms_days = 14
    db.session.commit()
    page = client.get("/council/manage/audit?action=updated")
    assert page.soup.h1.get_text(strip=True) == "Audit trail"
    assert text_of(page.soup, "#audit-count") == "2 changes"
    fragment = client.get(
        "/council/manage/audit?entity=service_price&action=updated",
        headers={"HX-Request": "true"},
    )
    assert fragment.soup.find("h1") is None
    assert "price per day pence: 45000 → 46000" in text_of(fragment.soup, "#audit-table")
    assert "payment terms" not in text_of(fragment.soup, "#audit-table")
    by_admin = client.get(
        f"/council/manage/audit?actor={world.users[Role.LA_ADMIN].id}&entity=service_price"
    )
    assert text_of(by_admin.soup, "#audit-count") == "1 change"
    searched = client.get("/council/manage/audit?q=HTPM&action=updated")
    assert text_of(searched.soup, "#audit-count") == "1 change"
    bad_date = client.get("/council/manage/audit?from=2026-02-31")
    assert "Enter a real date" in text_of(bad_date.soup, "main")
    assert as_role(Role.LA_FINANCE).get("/council/manage/audit").status_code == 403


def test_csv_export_neutralises_formulas(as_role: Any, world: Any) -> None:
    world.council.name = '=HYPERLINK("http://evil")'
    world.council.address = "+44 evil\n-1"
    db.session.commit()
    response = as_role(Role.LA_ADMIN).get("/council/manage/audit.csv?entity=council_settings")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["When (UK time)", "Who", "Action"]
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert "'+44 evil\n-1" in cells
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells)
    for cell in ("=1", "+1", "-1", "@x", "\tx", "\rx", "ok"):
        assert audit.safe_cell(cell)[0] not in "=+-@\t\r" or cell == "ok"
