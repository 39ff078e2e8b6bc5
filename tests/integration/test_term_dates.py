"""Term dates: the council's terms and INSET days, schools' own INSET days, bank holidays, and
what they mean for booking visits (refused with the reason, overridden with one, or recorded
after the day). Dates are in next academic year, so they are in the future whatever today is."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import text_of
from traded_app.extensions import db
from traded_app.models import (
    BankHoliday,
    CoreAllocation,
    InsetDay,
    TermPeriod,
    Visit,
    VisitStatus,
)
from traded_app.models.types import AllocationReason, Role
from traded_app.services.days import school_calendar
from traded_app.services.platform.settings import ensure_academic_year, today


def _monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


class Year:
    """Next academic year with two terms and a week's holiday between them."""

    def __init__(self, world: Any) -> None:
        self.year = ensure_academic_year(world.year.start_year + 1)
        self.t1_first = _monday_on_or_after(date(self.year.start_year, 9, 7))
        self.t1_last = self.t1_first + timedelta(days=32)  # a Friday, five weeks on
        self.holiday = self.t1_last + timedelta(days=3)  # the Monday after
        self.t2_first = self.t1_last + timedelta(days=10)
        self.t2_last = self.t2_first + timedelta(days=25)
        for school in (world.school, world.other_school):
            db.session.add(
                CoreAllocation(
                    school_id=school.id,
                    academic_year_id=self.year.id,
                    reason=AllocationReason.PARTNERSHIP,
                    half_days=10,
                )
            )
        db.session.add_all(
            [
                TermPeriod(
                    academic_year_id=self.year.id,
                    name="Autumn 1",
                    first_day=self.t1_first,
                    last_day=self.t1_last,
                ),
                TermPeriod(
                    academic_year_id=self.year.id,
                    name="Autumn 2",
                    first_day=self.t2_first,
                    last_day=self.t2_last,
                ),
            ]
        )
        db.session.commit()


@pytest.fixture()
def next_year(world: Any) -> Year:
    return Year(world)


def _parts(on: date) -> list[str]:
    return [str(on.day), str(on.month), str(on.year)]


def _visit_form(world: Any, on: date, **values: Any) -> dict[str, Any]:
    return {
        "adviser_id": str(world.users[Role.ADVISER].id),
        "visit_date": _parts(on),
        "half_days": "1",
        "against": "core",
        "purpose": "Termly visit",
        **values,
    }


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def _book(as_role: Any, world: Any, role: Role, on: date, school: Any = None, **values: Any) -> Any:
    urn = (school or world.school).urn
    return as_role(role).post_form(f"/visits/new?school={urn}", _visit_form(world, on, **values))


def test_the_service_manager_enters_terms_and_a_half_term_booking_is_refused(
    as_role: Any, world: Any
) -> None:
    year = ensure_academic_year(world.year.start_year + 1)
    db.session.add(
        CoreAllocation(
            school_id=world.school.id,
            academic_year_id=year.id,
            reason=AllocationReason.PARTNERSHIP,
            half_days=10,
        )
    )
    db.session.commit()
    admin = as_role(Role.LA_ADMIN)
    first = _monday_on_or_after(date(year.start_year, 9, 7))
    last = first + timedelta(days=32)
    url = f"/council/term-dates?year={year.start_year}"
    added = admin.post_form(
        url,
        {"term_name": "Autumn 1", "first_day": _parts(first), "last_day": _parts(last)},
    )
    assert added.status_code == 302
    page = admin.get(url)
    assert "Autumn 1" in text_of(page.soup, "#terms")
    overlapping = admin.post_form(
        url,
        {
            "term_name": "Autumn 1b",
            "first_day": _parts(last),
            "last_day": _parts(last + timedelta(days=7)),
        },
    )
    assert any("It overlaps Autumn 1" in e for e in _errors(overlapping))
    assert db.session.query(TermPeriod).count() == 1

    half_term = last + timedelta(days=3)
    refused = _book(as_role, world, Role.ADVISER, half_term)
    assert refused.status_code == 200
    assert any("is not in term time (in the holiday after Autumn 1)" in e for e in _errors(refused))
    assert _book(as_role, world, Role.ADVISER, first + timedelta(days=1)).status_code == 302
    assert db.session.query(Visit).count() == 1


def test_bank_holidays_and_inset_days_are_refused_with_their_names(
    as_role: Any, world: Any, next_year: Year
) -> None:
    holiday = next_year.t1_first + timedelta(days=8)  # a Tuesday in term
    school_calendar.update_bank_holidays([(holiday, "Coronation bank holiday")])
    council_inset = next_year.t1_first + timedelta(days=9)
    db.session.add(InsetDay(inset_on=council_inset, name="Staff training day"))
    db.session.commit()
    refused = _book(as_role, world, Role.ADVISER, holiday)
    assert any("bank holiday (Coronation bank holiday)" in e for e in _errors(refused))
    refused = _book(as_role, world, Role.ADVISER, council_inset)
    assert any("is an INSET day (Staff training day)" in e for e in _errors(refused))

    own = next_year.t1_first + timedelta(days=10)
    sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    added = sbm.post_form(
        f"/days/inset-days?year={next_year.year.start_year}",
        {"inset_on": _parts(own), "inset_name": "Whole-school training"},
    )
    assert added.status_code == 302
    page = sbm.get(f"/days/inset-days?year={next_year.year.start_year}")
    assert "Whole-school training" in text_of(page.soup, "#school-inset-days")
    assert "Autumn 1" in page.get_data(as_text=True)  # the council's terms, shown to the school
    refused = _book(as_role, world, Role.ADVISER, own)
    assert any(
        "one of the school's INSET days (Whole-school training)" in e for e in _errors(refused)
    )
    # Another school's day is its own: the other school can be visited that day.
    assert _book(as_role, world, Role.ADVISER, own, school=world.other_school).status_code == 302


def test_the_service_manager_may_book_outside_term_with_a_reason_shown_on_the_visit(
    as_role: Any, world: Any, next_year: Year
) -> None:
    # An adviser's form has no reason field; a reason sent anyway overrides nothing.
    refused = _book(
        as_role, world, Role.ADVISER, next_year.holiday, override_reason="Summer recruitment"
    )
    assert any("not in term time" in e for e in _errors(refused))
    form = as_role(Role.ADVISER).get(f"/visits/new?school={world.school.urn}")
    assert form.soup.select_one("#override_reason") is None

    booked = _book(
        as_role,
        world,
        Role.LA_ADMIN,
        next_year.holiday,
        override_reason="Interviews for the new headteacher in the holiday",
    )
    assert booked.status_code == 302, _errors(booked)
    visit = db.session.query(Visit).one()
    assert visit.date_override_reason == "Interviews for the new headteacher in the holiday"
    detail = as_role(Role.LA_ADMIN).get(f"/visits/{visit.id}")
    assert "Interviews for the new headteacher in the holiday" in detail.get_data(as_text=True)
    # A day the calendar allows records no override, even with a reason typed.
    _book(
        as_role, world, Role.LA_ADMIN, next_year.t1_first + timedelta(days=1), override_reason="x"
    )
    assert db.session.query(Visit).filter(Visit.date_override_reason == "").count() == 1


def test_a_past_date_cannot_be_booked_only_recorded_as_delivered_with_a_reason(
    as_role: Any, world: Any
) -> None:
    db.session.add(
        CoreAllocation(
            school_id=world.school.id,
            academic_year_id=world.year.id,
            reason=AllocationReason.PARTNERSHIP,
            half_days=4,
        )
    )
    db.session.commit()
    past = today() - timedelta(days=1)
    while past.weekday() >= 5 or past in school_calendar.shipped_bank_holidays():
        past -= timedelta(days=1)
    if past < world.year.starts_on:  # the first days of September: use the last school day
        past = world.year.starts_on
    refused = _book(as_role, world, Role.ADVISER, past)
    assert any("has passed: visits cannot be booked for past dates" in e for e in _errors(refused))
    assert "record a past visit" in refused.get_data(as_text=True)

    adviser = as_role(Role.ADVISER)
    url = f"/visits/record?school={world.school.urn}"
    assert adviser.get(url).soup.h1.get_text(strip=True) == "Record a past visit"
    no_reason = adviser.post_form(url, _visit_form(world, past, note="Reviewed the plan"))
    assert "Enter why the visit is recorded after the day" in _errors(no_reason)
    future = adviser.post_form(
        url,
        _visit_form(world, today() + timedelta(days=3), note="x", recorded_after_reason="y"),
    )
    assert any("Only a visit on a past date" in e for e in _errors(future))
    assert db.session.query(Visit).count() == 0

    done = adviser.post_form(
        url,
        _visit_form(
            world,
            past,
            note="Reviewed the plan with the headteacher",
            recorded_after_reason="Arranged by phone on the day",
        ),
    )
    assert done.status_code == 302, _errors(done)
    visit = db.session.query(Visit).one()
    assert (visit.status, visit.visit_date) == (VisitStatus.DELIVERED, past)
    assert visit.recorded_after_reason == "Arranged by phone on the day"
    assert "Arranged by phone on the day" in adviser.get(f"/visits/{visit.id}").get_data(
        as_text=True
    )


def _upload(client: Any, year: Any, data: bytes, name: str) -> Any:
    """Post the file as a browser would, encoded in memory (the test client would spool a large
    body to a temporary file that nothing closes)."""
    boundary, body = encode_multipart(
        {
            "csrf_token": client.csrf_token(),
            "file": FileStorage(io.BytesIO(data), filename=name, content_type="text/csv"),
        }
    )
    return client.post(
        f"/council/term-dates/upload?year={year.start_year}",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def test_a_csv_of_term_dates_is_previewed_then_added_all_together(as_role: Any, world: Any) -> None:
    year = ensure_academic_year(world.year.start_year + 1)
    y = year.start_year
    data = (
        "Name,First day,Last day,Kind\n"
        f"Autumn 1,{y}-09-03,{y}-10-23,term\n"
        f"Autumn 2,{y}-11-02,{y}-12-18,term\n"
        f"Staff training,{y}-09-03,,INSET day\n"
    ).encode()
    admin = as_role(Role.LA_ADMIN)
    preview = _upload(admin, year, data, "terms.csv")
    assert preview.status_code == 200
    assert "Adding 2 terms and 1 INSET day" in preview.get_data(as_text=True)
    assert db.session.query(TermPeriod).count() == 0  # nothing saved by a preview
    rows = preview.soup.select_one("input[name=rows]")["value"]
    done = admin.post_form(f"/council/term-dates/upload/confirm?year={y}", {"rows": rows})
    assert done.status_code == 302
    assert [t.name for t in school_calendar.terms(year)] == ["Autumn 1", "Autumn 2"]
    assert db.session.query(InsetDay).count() == 1
    # The same preview confirmed again is stale: the terms overlap now, and nothing is added.
    again = admin.post_form(f"/council/term-dates/upload/confirm?year={y}", {"rows": rows})
    assert again.status_code == 302
    page = admin.get(again.location)
    assert "have changed since the preview" in page.get_data(as_text=True)
    assert db.session.query(TermPeriod).count() == 2


def test_an_icalendar_file_is_previewed_and_refused_rows_say_why(as_role: Any, world: Any) -> None:
    year = ensure_academic_year(world.year.start_year + 1)
    y = year.start_year
    data = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\n"
        f"BEGIN:VEVENT\r\nSUMMARY:Autumn 1\r\nDTSTART;VALUE=DATE:{y}0903\r\n"
        f"DTEND;VALUE=DATE:{y}1024\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nSUMMARY:Overlap\r\nDTSTART;VALUE=DATE:{y}1020\r\n"
        f"DTEND;VALUE=DATE:{y}1101\r\nEND:VEVENT\r\n"
        f"BEGIN:VEVENT\r\nSUMMARY:Too late\r\nDTSTART;VALUE=DATE:{y + 1}0903\r\n"
        f"DTEND;VALUE=DATE:{y + 1}0910\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    ).encode()
    preview = _upload(as_role(Role.LA_ADMIN), year, data, "terms.ics")
    summary = text_of(preview.soup, ".govuk-error-summary")
    assert "2 rows cannot be added" in summary
    assert "It overlaps Autumn 1 earlier in the file" in summary
    assert f"A term of {year.label} must be between" in summary
    assert preview.soup.select_one("input[name=rows]") is None  # no way to confirm
    assert db.session.query(TermPeriod).count() == 0


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"Term,Start\nAutumn,2026-09-03\n", "terms.csv", "The first row must name the columns"),
        ("Name,First day\nAutumn,2026-09-03\n".encode("utf-16"), "terms.csv", "must be a CSV"),
        (b"Name,First day\n\xe9t\xe9,2026-09-03\n", "terms.csv", "must be saved as UTF-8"),
        (b"\x00junk" * 2_000_000, "junk.csv", "smaller than 1 MB"),
        (b"", "terms.csv", "Select a CSV or iCalendar file"),
    ],
)
def test_bad_files_give_a_clear_error_and_change_nothing(
    as_role: Any, world: Any, data: bytes, name: str, message: str
) -> None:
    year = ensure_academic_year(world.year.start_year + 1)
    response = _upload(as_role(Role.LA_ADMIN), year, data, name if data else "")
    assert response.status_code == 200
    assert any(message in e for e in _errors(response)), _errors(response)
    assert db.session.query(TermPeriod).count() == 0


def test_inset_day_with_a_visit_booked_is_refused(
    as_role: Any, world: Any, next_year: Year
) -> None:
    on = next_year.t1_first + timedelta(days=2)
    assert _book(as_role, world, Role.ADVISER, on).status_code == 302
    refused = as_role(Role.HEADTEACHER).post_form(
        f"/days/inset-days?year={next_year.year.start_year}",
        {"inset_on": _parts(on), "inset_name": "Training"},
    )
    assert any("1 visit is booked on" in e for e in _errors(refused))
    assert db.session.query(InsetDay).count() == 0


def test_a_school_cannot_remove_another_schools_inset_day(
    as_role: Any, world: Any, next_year: Year
) -> None:
    theirs = InsetDay(inset_on=next_year.t1_first, name="Theirs", school_id=world.other_school.id)
    council = InsetDay(inset_on=next_year.t1_last, name="Council's")
    db.session.add_all([theirs, council])
    db.session.commit()
    sbm = as_role(Role.SCHOOL_BUSINESS_MANAGER)
    assert sbm.post_form(f"/days/inset-days/{theirs.id}/delete").status_code == 404
    assert sbm.post_form(f"/days/inset-days/{council.id}/delete").status_code == 404
    assert db.session.query(InsetDay).count() == 2


def test_the_advisers_week_names_closed_days(as_role: Any, world: Any, next_year: Year) -> None:
    school_calendar.update_bank_holidays([(next_year.t1_first, "Early autumn bank holiday")])
    db.session.commit()
    week = as_role(Role.ADVISER).get(f"/visits?week={next_year.holiday.isoformat()}")
    assert "No visits: School holiday." in week.get_data(as_text=True)
    week = as_role(Role.ADVISER).get(f"/visits?week={next_year.t1_first.isoformat()}")
    assert "No visits: Early autumn bank holiday." in week.get_data(as_text=True)


def test_update_bank_holidays_loads_govuk_json(app: Any, tmp_path: Path, world: Any) -> None:
    good = tmp_path / "bank-holidays.json"
    good.write_text(
        '{"england-and-wales": {"division": "england-and-wales", "events": ['
        '{"title": "Christmas Day", "date": "2031-12-25", "notes": "", "bunting": true},'
        '{"title": "Boxing Day", "date": "2031-12-26", "notes": "", "bunting": true}]},'
        '"scotland": {"division": "scotland", "events": []}}'
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["update-bank-holidays", "--file", str(good)])
    assert result.exit_code == 0, result.output
    assert "2 bank holidays loaded" in result.output
    db.session.expire_all()
    assert [h.title for h in db.session.query(BankHoliday).order_by(BankHoliday.holiday_on)] == [
        "Christmas Day",
        "Boxing Day",
    ]
    bad = tmp_path / "bad.json"
    bad.write_text('{"scotland": {"events": []}}')
    result = runner.invoke(args=["update-bank-holidays", "--file", str(bad)])
    assert result.exit_code != 0
    assert "no England and Wales bank holidays" in result.output
    assert db.session.query(BankHoliday).count() == 2


def test_the_shipped_bank_holidays_cover_the_years_ahead() -> None:
    shipped = school_calendar.shipped_bank_holidays()
    assert shipped[date(2026, 12, 28)] == "Boxing Day (substitute day)"
    assert shipped[date(2027, 3, 26)] == "Good Friday"
    assert max(shipped).year >= 2030


def test_years_past_the_shipped_list_still_have_their_bank_holidays(app: Any, world: Any) -> None:
    """The service runs for years: past GOV.UK's list (shipped or loaded) the standing rules
    give each year's bank holidays, so Christmas 2031 and Easter Monday 2035 are closed days."""
    assert max(school_calendar.shipped_bank_holidays()).year < 2031
    school_calendar.update_bank_holidays([(date(2027, 4, 29), "A one-off loaded holiday")])
    found = school_calendar.bank_holidays(date(2031, 12, 1), date(2035, 4, 30))
    assert found[date(2031, 12, 25)] == "Christmas Day"
    assert found[date(2035, 3, 26)] == "Easter Monday"
    # a year the loaded list has is that list's alone (it takes precedence, as before)
    assert school_calendar.bank_holidays(date(2027, 1, 1), date(2027, 12, 31)) == {
        date(2027, 4, 29): "A one-off loaded holiday"
    }
    # a year only the shipped list has is the shipped list's
    assert school_calendar.bank_holidays(date(2028, 12, 24), date(2028, 12, 27)) == {
        date(2028, 12, 25): "Christmas Day",
        date(2028, 12, 26): "Boxing Day",
    }


def test_the_schools_days_page_leads_to_its_term_dates(as_role: Any, world: Any) -> None:
    page = as_role(Role.HEADTEACHER).get("/days")
    link = page.soup.find("a", string="Term dates and your school's INSET days")
    assert link is not None and link["href"].startswith("/days/inset-days")
