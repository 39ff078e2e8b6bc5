"""The GIAS import through the service manager's screens: preview, confirm, conversions, failures
that change nothing."""

from __future__ import annotations

import io
import json
import time
from datetime import date
from typing import Any

from sqlalchemy import func, select

from tests.conftest import text_of
from tests.factories import charged_order, gias_csv, gias_row
from traded_app.extensions import db
from traded_app.models import (
    AuditEvent,
    GiasImport,
    QuadrantDistrict,
    School,
    User,
)
from traded_app.models.types import BillingRoute, Role, SchoolStatus
from traded_app.services.council import conversions, gias_import


def _upload(client: Any, data: bytes, name: str = "edubasealldata.csv") -> Any:
    return client.post_form(
        "/council/manage/schools/import",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _setup(world: Any) -> None:
    world.council.la_code = "881"
    db.session.add(QuadrantDistrict(name="Chelmsford", quadrant_id=world.quadrant.id))
    db.session.commit()


def _schools() -> int:
    return db.session.execute(select(func.count()).select_from(School)).scalar_one()


def test_preview_then_confirm_new_changed_closed(as_role: Any, world: Any) -> None:
    _setup(world)
    rows = [
        gias_row(world.school.urn, "Riverside Primary School"),  # unchanged name…
        gias_row(world.other_school.urn, "Hilltop Infant and Nursery School"),  # renamed
        gias_row(
            world.academy.urn,
            "Meadow Academy",
            **{
                "EstablishmentStatus (name)": "Closed",
                "CloseDate": "31-08-2026",
                "EstablishmentTypeGroup (name)": "Academies",
            },
        ),
        gias_row(300001, "Brand New Primary"),
        gias_row(300002, "Far Away School", **{"LA (code)": "883"}),
    ]
    client = as_role(Role.LA_ADMIN)
    before = _schools()
    response = _upload(client, gias_csv(rows))
    assert response.status_code == 302
    preview = client.get(response.location)
    assert preview.soup.h1.get_text(strip=True) == "Check the changes before importing"
    assert text_of(preview.soup, "#count-new") == "1"
    assert text_of(preview.soup, "#count-changed") == "2"  # the rename, and Riverside's address
    assert text_of(preview.soup, "#count-closed") == "1"
    assert "Hilltop Infant School → Hilltop Infant and Nursery School" in text_of(
        preview.soup, "#changed"
    )
    assert _schools() == before  # a preview changes nothing

    confirm = client.post_form(response.location)
    assert confirm.status_code == 302
    new = db.session.execute(select(School).where(School.urn == 300001)).scalar_one()
    assert new.quadrant_id == world.quadrant.id and new.billing_route == BillingRoute.RECHARGE
    assert new.district == "Chelmsford" and new.postcode == "CM1 1AA"
    assert db.session.get(School, world.other_school.id).name == "Hilltop Infant and Nursery School"
    closed = db.session.get(School, world.academy.id)
    assert closed.status == SchoolStatus.CLOSED and str(closed.closed_on) == "2026-08-31"
    assert db.session.execute(select(School).where(School.urn == 300002)).first() is None
    record = db.session.execute(select(GiasImport)).scalar_one()
    assert record.status.value == "applied"
    entries = db.session.execute(
        select(AuditEvent).where(AuditEvent.entity == "school", AuditEvent.source != "")
    ).scalars()
    assert {e.entity_label for e in entries} >= {
        "Brand New Primary (300001)",
        "Meadow Academy (100003)",
        "Hilltop Infant School (100002)",
    }
    # Confirming twice does nothing more.
    again = client.post_form(response.location, follow_redirects=True)
    assert "already applied" in text_of(again.soup, "main")


def test_academy_conversion_keeps_history_and_moves_to_invoices(as_role: Any, world: Any) -> None:
    _setup(world)
    order, _document = charged_order(world, 2)  # history at the old URN
    world.school.billing_contact_email = "bursar@riverside.example"
    db.session.commit()
    postcode = "CM2 9ZZ"
    world.school.postcode = postcode
    db.session.commit()
    rows = [
        gias_row(
            world.school.urn,
            "Riverside Primary School",
            Postcode=postcode,
            **{
                "EstablishmentStatus (name)": "Closed",
                "CloseDate": "31-03-2027",
                "ReasonEstablishmentClosed (name)": "Academy converter",
            },
        ),
        gias_row(
            400001,
            "Riverside Primary Academy",
            Postcode=postcode,
            **{
                "EstablishmentTypeGroup (name)": "Academies",
                "TypeOfEstablishment (name)": "Academy converter",
                "ReasonEstablishmentOpened (name)": "Academy converter",
                "OpenDate": "01-04-2027",
            },
        ),
    ]
    client = as_role(Role.LA_ADMIN)
    response = _upload(client, gias_csv(rows))
    preview = client.get(response.location)
    assert text_of(preview.soup, "#count-converted") == "1"
    assert "Riverside Primary Academy (400001)" in text_of(preview.soup, "#converted")
    assert "converts to an academy on 1 April 2027" in text_of(preview.soup, "#converted")
    client.post_form(response.location)
    old = db.session.get(School, world.school.id)
    new = db.session.execute(select(School).where(School.urn == 400001)).scalar_one()
    assert new.predecessor_id == old.id
    assert new.billing_route == BillingRoute.INVOICE and new.cost_centre is None
    assert new.partnership_id == world.partnership.id  # carried over
    assert new.billing_contact_email == "bursar@riverside.example"
    assert new.quadrant_id == world.quadrant.id
    # Until the academy's open date the maintained school carries on, with its staff.
    sbm = db.session.get(User, world.users[Role.SCHOOL_BUSINESS_MANAGER].id)
    assert old.status == SchoolStatus.OPEN and sbm.school_id == old.id
    pending = client.get("/council/manage/conversions")
    assert "Waiting for its date" in text_of(pending.soup, "#conversions")
    # The same file again (GIAS's next extract) leaves it waiting: no plain closure.
    again = client.get(_upload(client, gias_csv(rows)).location)
    assert text_of(again.soup, "#count-closed") == "0"
    assert text_of(again.soup, "#count-converted") == "0"
    # On the date: closed, and (once confirmed) the staff carry on at the academy.
    conversion = conversions.pending_for(old.id)
    assert conversion is not None
    conversions.carry_out_due(date(2027, 4, 1))
    conversions.confirm(conversion, world.users[Role.LA_ADMIN], on=date(2027, 4, 1))
    db.session.commit()
    old = db.session.get(School, world.school.id)
    assert old.status == SchoolStatus.CLOSED and str(old.closed_on) == "2027-03-31"
    # The old record keeps its charged order; the staff carry on at the academy.
    assert db.session.get(type(order), order.id).school_id == old.id
    sbm = db.session.get(User, world.users[Role.SCHOOL_BUSINESS_MANAGER].id)
    assert sbm.school_id == new.id
    page = client.get(f"/council/manage/schools/{new.urn}")
    assert "Converted from" in text_of(page.soup, "main")


def test_a_failed_import_changes_nothing(as_role: Any, world: Any) -> None:
    _setup(world)
    client = as_role(Role.LA_ADMIN)
    before = _schools()
    rows = [gias_row(300001, "New"), gias_row(300001, "New again")]
    page = _upload(client, gias_csv(rows))
    assert page.status_code == 200
    assert "URN 300001 appears more than once" in text_of(page.soup, ".govuk-error-summary")
    page = _upload(client, b"\x00\xff" * 30_000, "junk.csv")
    assert "not a CSV file" in text_of(page.soup, ".govuk-error-summary")
    page = client.post_form(
        "/council/manage/schools/import", {}, content_type="multipart/form-data"
    )
    assert "Select the CSV file" in text_of(page.soup, ".govuk-error-summary")
    assert _schools() == before
    assert db.session.execute(select(GiasImport)).first() is None


def test_import_needs_the_la_code(as_role: Any, world: Any) -> None:
    page = _upload(as_role(Role.LA_ADMIN), gias_csv([gias_row(300001, "New")]))
    assert "Set the council's LA code" in text_of(page.soup, ".govuk-error-summary")


def test_unmapped_district_is_warned_and_discard_changes_nothing(as_role: Any, world: Any) -> None:
    _setup(world)
    client = as_role(Role.LA_ADMIN)
    rows = [gias_row(300001, "New", **{"DistrictAdministrative (name)": "Tendring"})]
    response = _upload(client, gias_csv(rows))
    preview = client.get(response.location)
    assert "Tendring (1)" in text_of(preview.soup, ".govuk-warning-text")
    import_id = int(response.location.rsplit("/", 1)[1])
    client.post_form(f"/council/manage/schools/import/{import_id}/discard")
    assert db.session.get(GiasImport, import_id).status.value == "discarded"
    assert db.session.execute(select(School).where(School.urn == 300001)).first() is None
    summary = json.loads(db.session.get(GiasImport, import_id).summary)
    assert summary["unmapped_districts"] == {"Tendring": 1}


def test_ten_thousand_rows_import_quickly(world: Any) -> None:
    _setup(world)
    data = gias_csv([gias_row(500000 + i, f"School {i}") for i in range(10_000)])
    admin = world.users[Role.LA_ADMIN]
    started = time.perf_counter()
    record = gias_import.preview(io.BytesIO(data), "big.csv", "881", admin)
    outcome = gias_import.apply(record, admin)
    db.session.commit()
    elapsed = time.perf_counter() - started
    assert outcome["new"] == 10_000 and _schools() == 10_003
    assert elapsed < 20, elapsed  # bench/gias_import.py prints the 30,000-row figure
