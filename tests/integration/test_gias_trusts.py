"""The GIAS import's trust columns: previewed with the school changes, then applied."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from tests.conftest import text_of
from tests.factories import GIAS_HEADER, gias_csv, gias_row
from traded_app.extensions import db
from traded_app.models import AuditEvent, QuadrantDistrict, School, Trust
from traded_app.models.types import Role

TRUST_COLUMNS = ["Trusts (code)", "Trusts (name)"]
ACADEMY = {
    "TypeOfEstablishment (name)": "Academy converter",
    "EstablishmentTypeGroup (name)": "Academies",
}


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GIAS_HEADER + TRUST_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _upload(client: Any, data: bytes) -> Any:
    return client.post_form(
        "/council/manage/schools/import",
        {"file": (io.BytesIO(data), "edubasealldata.csv")},
        content_type="multipart/form-data",
    )


def _setup(world: Any) -> None:
    world.council.la_code = "881"
    db.session.add(QuadrantDistrict(name="Chelmsford", quadrant_id=world.quadrant.id))
    world.trust.gias_code = "5001"
    db.session.commit()


def test_trust_columns_are_previewed_then_applied(as_role: Any, world: Any) -> None:
    _setup(world)
    rows = [
        gias_row(world.school.urn, "Riverside Primary School", **{"Trusts (code)": ""}),
        # GIAS moves Meadow Academy to a trust new to the service…
        gias_row(
            world.academy.urn,
            "Meadow Academy",
            **ACADEMY,
            **{"Trusts (code)": "5002", "Trusts (name)": "Oak  Multi Academy Trust"},
        ),
        # …and a new academy joins the world's trust, renamed in GIAS.
        gias_row(
            300010,
            "Willow Academy",
            **ACADEMY,
            **{"Trusts (code)": "5001", "Trusts (name)": "Meadow Schools Trust"},
        ),
    ]
    client = as_role(Role.LA_ADMIN)
    response = _upload(client, _csv(rows))
    assert response.status_code == 302
    preview = client.get(response.location).soup
    assert "Oak Multi Academy Trust (GIAS group 5002)" in text_of(preview, "#new-trusts")
    assert "Meadow Learning Trust → Meadow Schools Trust" in text_of(preview, "#renamed-trusts")
    moves = text_of(preview, "#trust-moves")
    assert "Meadow Academy (100003) Meadow Learning Trust Oak Multi Academy Trust" in moves
    assert "Willow Academy (300010) None Meadow Schools Trust" in moves
    assert "Riverside" not in moves  # in no trust, and GIAS names none
    assert db.session.query(Trust).count() == 1  # a preview changes nothing

    assert client.post_form(response.location).status_code == 302
    db.session.expire_all()
    oak = db.session.execute(select(Trust).where(Trust.gias_code == "5002")).scalar_one()
    assert oak.name == "Oak Multi Academy Trust" and oak.companies_house_number is None
    assert db.session.get(School, world.academy.id).trust_id == oak.id
    willow = db.session.execute(select(School).where(School.urn == 300010)).scalar_one()
    assert willow.trust_id == world.trust.id
    assert db.session.get(Trust, world.trust.id).name == "Meadow Schools Trust"
    trail = db.session.execute(
        select(AuditEvent).where(AuditEvent.entity_label == "Meadow Academy (100003)")
    ).scalars()
    assert any("trust" in (e.changes or "") for e in trail)


def test_an_academy_leaves_its_trust_when_gias_names_none(as_role: Any, world: Any) -> None:
    _setup(world)
    client = as_role(Role.LA_ADMIN)
    row = gias_row(world.academy.urn, "Meadow Academy", **ACADEMY, **{"Trusts (code)": ""})
    response = _upload(client, _csv([row]))
    assert "Meadow Learning Trust" in text_of(client.get(response.location).soup, "#trust-moves")
    client.post_form(response.location)
    db.session.expire_all()
    assert db.session.get(School, world.academy.id).trust_id is None


def test_a_file_without_trust_columns_leaves_trusts_alone(as_role: Any, world: Any) -> None:
    _setup(world)
    client = as_role(Role.LA_ADMIN)
    row = gias_row(world.academy.urn, "Meadow Academy", **ACADEMY)
    response = _upload(client, gias_csv([row]))
    assert "trust-moves" not in client.get(response.location).get_data(as_text=True)
    client.post_form(response.location)
    db.session.expire_all()
    assert db.session.get(School, world.academy.id).trust_id == world.trust.id
