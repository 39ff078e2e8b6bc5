"""Demo data for development and the demo: Essex schools from GIAS, a catalogue at £450 a day,
accounts, orders in every status at four demo schools, and confirmed orders at seven more
academies whose VAT invoices give finance a believable month; then visits, documents, payments
and their audit trail. All of it is loaded through the real services.

Idempotent: every record is found by its natural key (URN, code, e-mail) and updated in place.
Quadrant, district and partnership membership and the school flags are illustrative (the GIAS
extract has no districts), derived from the URN so that each run gives the same result. Demo
orders are made once per demo school (a school with any submitted order is left alone).

`load_demo` loads it all, in this order: council (settings, quadrants, catalogue), schools,
accounts, orders, days (closure days and visits), finance (documents, payments, journals), audit.
Only the command line (`flask seed-demo`) imports this package; production refuses it.
"""

from __future__ import annotations

from pathlib import Path

from traded_app.demo import accounts as demo_accounts
from traded_app.demo import audit as demo_audit
from traded_app.demo import brokering as demo_brokering
from traded_app.demo import buy_back as demo_buy_back
from traded_app.demo import council as demo_council
from traded_app.demo import courses as demo_courses
from traded_app.demo import days as demo_days
from traded_app.demo import finance as demo_finance
from traded_app.demo import instalments as demo_instalments
from traded_app.demo import memberships as demo_memberships
from traded_app.demo import orders as demo_orders
from traded_app.demo import partnership_orders as demo_partnership_orders
from traded_app.demo import plans as demo_plans
from traded_app.demo import schools as demo_schools
from traded_app.demo import statements as demo_statements
from traded_app.demo import terms as demo_terms
from traded_app.demo import trusts as demo_trusts
from traded_app.demo import visit_reports as demo_visit_reports
from traded_app.extensions import db
from traded_app.services.days.allocations import generate_core_allocations
from traded_app.services.platform import audit
from traded_app.services.platform.auth import hash_password
from traded_app.services.platform.settings import academic_start_year, ensure_academic_year, today

__all__ = ["load_demo"]


def load_demo(
    data_file: Path = demo_schools.DATA_FILE, password_hash: str | None = None
) -> dict[str, int]:
    """Load or refresh the whole demo; returns counts of what is there afterwards.

    The audit trail is paused while loading; the demo's history is then written into it with
    the people and times of each step (traded_app.demo.audit)."""
    with audit.paused():
        counts = _load_demo(data_file, password_hash)
    counts["audit_events"] = demo_audit.load_history()
    return counts


def _load_demo(data_file: Path, password_hash: str | None) -> dict[str, int]:
    settings = demo_council.council_settings()
    this_year = academic_start_year(today())
    years = [ensure_academic_year(y) for y in (this_year - 1, this_year, this_year + 1)]
    quadrants = demo_council.quadrants(years)
    demo_council.catalogue(years)
    demo_council.delivery_activities()
    schools = demo_schools.schools(data_file, quadrants)
    demo_schools.partnerships(schools, quadrants)
    chosen = demo_schools.demo_schools(schools)
    accounts = demo_accounts.accounts(
        chosen, password_hash or hash_password(demo_accounts.DEMO_PASSWORD)
    )
    db.session.flush()
    demo_memberships.load(chosen, schools)  # a person at two schools; a conversion to come
    for year in years[1:]:
        generate_core_allocations(year, settings)
    timing = demo_finance.hold_invoices(settings)  # issued below with believable dates
    orders = demo_orders.orders(chosen, {u.email: u for u in accounts}, years[1])
    demo_terms.load_terms(years[1:], next(u for u in accounts if u.email == "admin@example.org"))
    # Term dates and closure days for every demo year, and this year's visits.
    demo_days.load_calendar(years, list(chosen.values()))
    visit_count = demo_days.load_visits(years[1], list(chosen.values()))
    demo_plans.load(years[1], list(chosen.values()))  # a partnership plan, a bespoke request
    demo_visit_reports.load_reports(years[1])
    # Aged invoices, payments, journals.
    demo_finance.load_finance(settings, timing, demo_orders.charges(chosen))
    # School-to-school support: offers, a delivered engagement, requests to compare.
    support_offers = demo_brokering.load(chosen, {u.email: u for u in accounts})
    demo_buy_back.publish_next_year(years[2])
    demo_instalments.load_instalments(chosen, {u.email: u for u in accounts}, years[1])
    demo_courses.load_courses()
    demo_partnership_orders.load_partnership_order()  # split across three member schools
    remittances = demo_statements.load_remittance()  # one waiting to be matched
    trust = demo_trusts.load(chosen, password_hash or hash_password(demo_accounts.DEMO_PASSWORD))
    remittances += demo_trusts.load_remittance(trust)  # the trust's, for two academies
    settings.demo_data = True
    db.session.flush()
    return {
        "schools": len(schools),
        "accounts": len(accounts),
        "services": len(demo_council.CATALOGUE),
        "orders": orders,
        "visits": visit_count,
        "support_offers": support_offers,
        "remittances": remittances,
    }
