"""Small, explicit builders for the records tests need."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from tests.stripe_fake import SECRET_KEY, WEBHOOK_SECRET
from traded_app.domain import pricing
from traded_app.extensions import db
from traded_app.models import (
    AcademicYear,
    CardPaymentReview,
    ClosureDay,
    CoreAllocation,
    CouncilSettings,
    CsvImport,
    CsvImportKind,
    Document,
    DocumentLine,
    DocumentType,
    DocumentVatBand,
    InsetDay,
    InvoiceRun,
    InvoiceRunStatus,
    Order,
    Partnership,
    Quadrant,
    QuadrantCapacity,
    ReviewKind,
    School,
    Service,
    ServicePrice,
    ServiceVat,
    Trust,
    User,
)
from traded_app.models.base import utcnow
from traded_app.models.finance import ExportKind
from traded_app.models.orders import OrderStatus
from traded_app.models.statements import Remittance
from traded_app.models.types import (
    AllocationReason,
    BillingRoute,
    CustomerType,
    EstablishmentType,
    Phase,
    Role,
    ServiceGroup,
    VatTreatment,
)
from traded_app.services.council import gias_import
from traded_app.services.days import adviser_calendar, school_calendar, visits
from traded_app.services.documents import issuing as invoicing
from traded_app.services.finance import export_builds, exports, payments
from traded_app.services.ordering import basket, quotes, terms, workflow
from traded_app.services.platform.auth import hash_password
from traded_app.services.platform.settings import academic_start_year, ensure_academic_year, today

PASSWORD = "correct horse battery staple"


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def make_council(**values: Any) -> CouncilSettings:
    settings = CouncilSettings(
        id=1, name="Testshire County Council", contact_email="team@council.example", **values
    )
    db.session.add(settings)
    db.session.flush()
    return settings


def make_quadrant(
    code: str = "MID",
    name: str = "Mid",
    capacity_half_days: int = 200,
    year: AcademicYear | None = None,
) -> Quadrant:
    quadrant = Quadrant(code=code, name=name)
    db.session.add(quadrant)
    db.session.flush()
    if year is not None:
        db.session.add(
            QuadrantCapacity(
                quadrant_id=quadrant.id,
                academic_year_id=year.id,
                traded_capacity_half_days=capacity_half_days,
            )
        )
    return quadrant


def make_school(
    urn: int, name: str, *, quadrant: Quadrant | None = None, academy: bool = False, **values: Any
) -> School:
    school = School(
        urn=urn,
        name=name,
        phase=values.pop("phase", Phase.PRIMARY),
        establishment_type=EstablishmentType.ACADEMY
        if academy
        else EstablishmentType.LA_MAINTAINED,
        customer_type=CustomerType.ACADEMY if academy else CustomerType.MAINTAINED,
        billing_route=BillingRoute.INVOICE if academy else BillingRoute.RECHARGE,
        quadrant_id=quadrant.id if quadrant else None,
        cost_centre=None if academy else f"CC{urn}",
        address=values.pop("address", f"{urn} School Lane\nChelmsford"),
        postcode=values.pop("postcode", "CM1 1AA"),
        **values,
    )
    db.session.add(school)
    db.session.flush()
    return school


def make_service(
    code: str,
    year: AcademicYear,
    *,
    price_pence: int = 45_000,
    half_days: tuple[int, int, int] = (2, 1, 6),
    group: ServiceGroup = ServiceGroup.LEADERSHIP,
    **values: Any,
) -> Service:
    typical, low, high = half_days
    service = Service(
        code=code,
        name=values.pop("name", f"Service {code}"),
        description=values.pop("description", f"What {code} is."),
        group=group,
        typical_half_days=typical,
        min_half_days=low,
        max_half_days=high,
        income_code=values.pop("income_code", f"IC{code}"),
        **values,
    )
    db.session.add(service)
    db.session.flush()
    db.session.add(
        ServicePrice(
            service_id=service.id, academic_year_id=year.id, price_per_day_pence=price_pence
        )
    )
    db.session.add(
        ServiceVat(
            service_id=service.id,
            customer_type=CustomerType.MAINTAINED,
            treatment=VatTreatment.OUTSIDE_SCOPE,
            vat_rate_bp=0,
        )
    )
    db.session.add(
        ServiceVat(
            service_id=service.id,
            customer_type=CustomerType.ACADEMY,
            treatment=VatTreatment.STANDARD,
            vat_rate_bp=2000,
        )
    )
    db.session.add(
        ServiceVat(
            service_id=service.id,
            customer_type=CustomerType.OTHER,
            treatment=VatTreatment.STANDARD,
            vat_rate_bp=2000,
        )
    )
    db.session.flush()
    return service


def make_user(email: str, role: Role, school: School | None = None, **values: Any) -> User:
    user = User(
        email=email,
        name=values.pop("name", email.split("@")[0].title()),
        password_hash=password_hash(),
        role=role,
        school_id=school.id if school else None,
        **values,
    )
    db.session.add(user)
    db.session.flush()
    return user


@dataclass
class World:
    council: CouncilSettings
    year: AcademicYear
    quadrant: Quadrant
    partnership: Partnership
    school: School
    other_school: School
    academy: School
    service: Service
    users: dict[Role, User] = field(default_factory=dict)
    academy_sbm: User | None = None
    trust: Trust | None = None


def build_world() -> World:
    """A council with one quadrant, two maintained schools and an academy, one service, and a
    user for every role (school users at `school`). Committed, as the app would see it."""
    council = make_council()
    year = ensure_academic_year(academic_start_year(today()))
    quadrant = make_quadrant(year=year)
    partnership = Partnership(name="Riverside partnership", quadrant_id=quadrant.id)
    db.session.add(partnership)
    db.session.flush()
    # An established service: each school's details were checked this academic year.
    checked = {"details_checked_year": academic_start_year(today())}
    school = make_school(
        100001,
        "Riverside Primary School",
        quadrant=quadrant,
        partnership_id=partnership.id,
        **checked,
    )
    other = make_school(100002, "Hilltop Infant School", quadrant=quadrant, **checked)
    trust = Trust(name="Meadow Learning Trust", companies_house_number="07318714")
    db.session.add(trust)
    db.session.flush()
    academy = make_school(
        100003, "Meadow Academy", quadrant=quadrant, academy=True, trust_id=trust.id, **checked
    )
    service = make_service("HTPM", year, name="Headteacher performance management")
    users = {
        Role.SCHOOL_BUSINESS_MANAGER: make_user(
            "sbm@school.example", Role.SCHOOL_BUSINESS_MANAGER, school
        ),
        Role.HEADTEACHER: make_user("head@school.example", Role.HEADTEACHER, school),
        Role.LA_FINANCE: make_user("finance@council.example", Role.LA_FINANCE),
        Role.LA_ADMIN: make_user("admin@council.example", Role.LA_ADMIN),
        Role.ADVISER: make_user("adviser@council.example", Role.ADVISER),
        Role.TRUST_FINANCE: make_user(
            "finance@trust.example", Role.TRUST_FINANCE, trust_id=trust.id
        ),
    }
    academy_sbm = make_user("sbm@academy.example", Role.SCHOOL_BUSINESS_MANAGER, academy)
    db.session.commit()
    return World(
        council,
        year,
        quadrant,
        partnership,
        school,
        other,
        academy,
        service,
        users,
        academy_sbm,
        trust,
    )


def submitted_order(
    world: World,
    lines: dict[Service, int] | None = None,
    *,
    school: School | None = None,
    by: User | None = None,
    po_number: str = "PO-1",
) -> Any:
    """An order submitted through the ordering service (to the council unless it is over the
    school's approval limit), committed."""
    school = school or world.school
    user = by or (
        world.users[Role.SCHOOL_BUSINESS_MANAGER] if school is world.school else world.academy_sbm
    )
    order = basket.draft_for(school, user, world.year)
    for service, half_days in (lines or {world.service: 2}).items():
        basket.set_days(order, service.id, half_days)
    current = terms.current_for(world.year.id)
    accepted = current.id if current else None
    workflow.submit(
        order,
        user,
        workflow.Checkout(po_number=po_number, terms_version_id=accepted),
        expected_version=order.version,
    )
    db.session.commit()
    return order


def quote_and_terms_for_access(world: World) -> tuple[Any, Any]:
    """The year's terms (version 1) and a quote for `school`'s basket of 2 days."""
    published = terms.publish(
        world.year, "Orders are confirmed subject to capacity.", world.users[Role.LA_ADMIN]
    )
    user = world.users[Role.SCHOOL_BUSINESS_MANAGER]
    draft = basket.draft_for(world.school, user, world.year)
    basket.set_days(draft, world.service.id, 4)
    quote = quotes.create(world.school, user, world.year)
    db.session.commit()
    return quote, published


# --- Days: allocations, visits, closure days (issue 4) -----------------------------------------


def next_weekday(after: Any = None, *, days_ahead: int = 14) -> Any:
    """A weekday at least `days_ahead` days after `after` (default today) in the same
    academic year where possible."""
    day = (after or today()) + timedelta(days=days_ahead)
    while _not_a_school_day(day):
        day += timedelta(days=1)
    return day


def _not_a_school_day(day: Any) -> bool:
    return day.weekday() >= 5 or day in school_calendar.shipped_bank_holidays()


def weekday_in_year(world: World, *, past: bool = False) -> Any:
    """A weekday that is not a bank holiday inside the world's academic year: in the past (for
    deliveries) or future. The world has no term dates, so holidays between terms are open."""
    now = today()
    if past:
        day = now - timedelta(days=1)
        while _not_a_school_day(day):
            day -= timedelta(days=1)
        if day < world.year.starts_on:
            day = world.year.starts_on
            while _not_a_school_day(day):
                day += timedelta(days=1)
        return day
    day = now + timedelta(days=1)
    while _not_a_school_day(day):
        day += timedelta(days=1)
    if day > world.year.ends_on:
        day = world.year.ends_on
        while _not_a_school_day(day):
            day -= timedelta(days=1)
    return day


def core_allocation(world: World, half_days: int = 4, school: School | None = None) -> Any:
    row = CoreAllocation(
        school_id=(school or world.school).id,
        academic_year_id=world.year.id,
        reason=AllocationReason.PARTNERSHIP,
        half_days=half_days,
    )
    db.session.add(row)
    db.session.commit()
    return row


def confirmed_order(world: World, half_days: int = 4, school: School | None = None) -> Any:
    """An order submitted and confirmed by the council, committed."""
    order = submitted_order(world, {world.service: half_days}, school=school)
    if order.status.value == "awaiting_approval":
        workflow.approve(order, world.users[Role.HEADTEACHER])
    workflow.confirm(order, world.users[Role.LA_ADMIN])
    db.session.commit()
    return order


def book_visit(
    world: World,
    *,
    on: Any = None,
    half_days: int = 2,
    against: str = "core",
    school: School | None = None,
    purpose: str = "Termly visit",
) -> Any:
    day = on or weekday_in_year(world)
    visit = visits.schedule(
        visits.NewVisit(
            school=school or world.school,
            adviser_id=world.users[Role.ADVISER].id,
            visit_date=day,
            half_days=half_days,
            against=against,
            purpose=purpose,
        ),
        world.users[Role.LA_ADMIN],
        booked_on=min(day, today()),  # a visit in the past was booked before its day
    )
    db.session.commit()
    return visit


def delivered_visit_for_access(world: World) -> Any:
    """A half-day core visit by a second adviser delivered on the last school day, to rate."""
    second = make_user("second.adviser@council.example", Role.ADVISER)
    day = weekday_in_year(world, past=True)
    visit = visits.schedule(
        visits.NewVisit(world.school, second.id, day, 1, visits.CORE, "Termly visit"),
        world.users[Role.LA_ADMIN],
        booked_on=day,
    )
    visits.deliver(visit, second, "Reviewed the plan")
    db.session.commit()
    return visit


def calendar_for_access(world: World) -> tuple[Any, Any, Any]:
    """A term, a council INSET day and the world school's own INSET day, committed; and the
    adviser's calendar feed address."""
    year = world.year
    adviser_calendar.reset_feed(world.users[Role.ADVISER])
    term = school_calendar.add_term(
        year,
        "Summer 2",
        year.ends_on - timedelta(days=40),
        year.ends_on - timedelta(days=30),
        world.users[Role.LA_ADMIN],
    )
    council_day = InsetDay(inset_on=year.ends_on - timedelta(days=20), name="Training day")
    own_day = InsetDay(
        inset_on=year.ends_on - timedelta(days=19), name="Own training", school_id=world.school.id
    )
    db.session.add_all([council_day, own_day])
    db.session.commit()
    return term, council_day, own_day


def visit_and_closure_for_access(world: World) -> tuple[Any, Any]:
    """A delivered-able core visit and a closure day, for the route × role test."""
    core_allocation(world, 4)
    visit = book_visit(world, on=weekday_in_year(world, past=True))
    closure = ClosureDay(closed_on=world.year.ends_on - timedelta(days=1), name="Training day")
    db.session.add(closure)
    db.session.commit()
    return visit, closure


# --- Invoices, sending and invoice runs (issue 5) ----------------------------------------------


def charged_order(world: World, half_days: int = 4, school: School | None = None) -> Any:
    """A confirmed order and the invoice or recharge that confirmation issued: (order, document)."""
    order = confirmed_order(world, half_days, school=school)
    document = invoicing.charge_document_for(order)
    assert document is not None, "confirmation did not charge the order (invoice runs set?)"
    return order, document


def invoice_in_runs(world: World) -> None:
    """The council issues its documents in invoice runs, not on confirmation."""
    world.council.invoice_timing = "invoice_run"
    db.session.commit()


def finished_invoice_run(world: World) -> Any:
    """A finished invoice run that issued nothing (for pages that need a run's id)."""
    run = InvoiceRun(
        status=InvoiceRunStatus.FINISHED,
        source="cli",
        issue_date=today(),
        finished_at=utcnow(),
    )
    db.session.add(run)
    db.session.commit()
    return run


# --- Running the service: GIAS imports (issue 8) ------------------------------------------------

GIAS_HEADER = [
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentTypeGroup (name)",
    "EstablishmentStatus (name)",
    "ReasonEstablishmentOpened (name)",
    "OpenDate",
    "ReasonEstablishmentClosed (name)",
    "CloseDate",
    "PhaseOfEducation (name)",
    "Street",
    "Town",
    "Postcode",
    "DistrictAdministrative (name)",
]


def gias_row(urn: int, name: str, **values: str) -> dict[str, str]:
    """One GIAS export row (its own column names): an open LA-maintained primary by default."""
    row = {
        "URN": str(urn),
        "LA (code)": "881",
        "LA (name)": "Essex",
        "EstablishmentName": name,
        "TypeOfEstablishment (name)": "Community school",
        "EstablishmentTypeGroup (name)": "Local authority maintained schools",
        "EstablishmentStatus (name)": "Open",
        "ReasonEstablishmentOpened (name)": "Not applicable",
        "OpenDate": "",
        "ReasonEstablishmentClosed (name)": "Not applicable",
        "CloseDate": "",
        "PhaseOfEducation (name)": "Primary",
        "Street": "1 School Lane",
        "Town": "Chelmsford",
        "Postcode": f"CM1 {urn % 10}AA",
        "DistrictAdministrative (name)": "Chelmsford",
    }
    row.update(values)
    return row


def gias_csv(rows: list[dict[str, str]], *, encoding: str = "utf-8") -> bytes:
    """A GIAS-shaped CSV file as bytes."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=GIAS_HEADER, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def gias_import_for_access(world: World) -> Any:
    """A previewed GIAS import (one new school) for the route × role test."""
    world.council.la_code = "881"
    db.session.flush()
    record = gias_import.preview(
        io.BytesIO(gias_csv([gias_row(200001, "New Primary School")])),
        "gias.csv",
        "881",
        world.users[Role.LA_ADMIN],
    )
    db.session.commit()
    return record


# --- Finance: payments, registers and exports (issue 6) ----------------------------------------


def payment_for_access(world: World) -> Any:
    """A bank transfer of £1 on a fresh invoice to the academy (for the route × role test)."""
    _order, invoice = charged_order(world, 2, school=world.academy)
    payment = payments.record_bank_transfer(
        invoice, 100, today(), "BACS 1", world.users[Role.LA_FINANCE]
    )
    db.session.commit()
    return payment


def issue_document(
    world: World,
    *,
    school: School | None = None,
    document_type: Any = None,
    lines: list[tuple[int, int, Any, int]] | None = None,
    on: Any = None,
    credits: Any = None,
    po_number: str = "PO-1",
    number: str | None = None,
) -> Any:
    """A document inserted directly (no order workflow, no PDF render: fast enough for hundreds),
    with its lines and VAT bands worked out by the pricing service as issuing would. `lines` are
    (half_days, price_per_day_pence, vat_treatment, vat_rate_bp)."""
    school = school or world.academy
    document_type = document_type or (
        DocumentType.INVOICE
        if school.billing_route == BillingRoute.INVOICE
        else DocumentType.RECHARGE
    )
    lines = lines or [(2, 45_000, VatTreatment.STANDARD, 2000)]
    if document_type == DocumentType.RECHARGE:
        lines = [(h, p, VatTreatment.OUTSIDE_SCOPE, 0) for h, p, _t, _r in lines]
    issue_date = on or today()
    totals = pricing.totals([pricing.Line(h, p, t, r) for h, p, t, r in lines])
    order_id = credits.order_id if credits is not None else None
    if order_id is None:
        order = Order(
            school_id=school.id,
            academic_year_id=world.year.id,
            status=OrderStatus.CONFIRMED,
            po_number=po_number,
            created_by_id=world.users[Role.LA_ADMIN].id,
            half_days=totals.half_days,
            net_pence=totals.net_pence,
            vat_pence=totals.vat_pence,
            gross_pence=totals.gross_pence,
        )
        db.session.add(order)
        db.session.flush()
        order_id = order.id
    issue_document.counter = getattr(issue_document, "counter", 0) + 1  # type: ignore[attr-defined]
    sequence = issue_document.counter  # type: ignore[attr-defined]
    prefix = {"invoice": "INV", "recharge": "RCH", "credit_note": "CRN"}[document_type.value]
    document = Document(
        document_type=document_type,
        number=number or f"{prefix}-T-{sequence:06d}",
        financial_year=issue_date.year,
        sequence=sequence,
        order_id=order_id,
        credits_document_id=credits.id if credits is not None else None,
        school_id=school.id,
        academic_year_id=world.year.id,
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=30),
        seller_name="Testshire County Council",
        seller_address="County Hall",
        seller_vat_number="GB123",
        seller_email="team@council.example",
        seller_phone="01234",
        bank_name="Bank",
        bank_account_name="Testshire CC",
        bank_sort_code="12-34-56",
        bank_account_number="12345678",
        buyer_name=school.name,
        buyer_urn=school.urn,
        buyer_address="",
        buyer_contact_name="Bursar",
        buyer_contact_email=school.billing_contact_email or "",
        buyer_cost_centre=school.cost_centre or "",
        po_number=po_number,
        order_reference=f"ORD-{order_id}",
        net_pence=totals.net_pence,
        vat_pence=totals.vat_pence,
        gross_pence=totals.gross_pence,
        pdf_path=f"test/{sequence}.pdf",
        pdf_sha256="0" * 64,
        pdf_bytes=0,
    )
    document.lines = [
        DocumentLine(
            position=i,
            service_code=world.service.code,
            service_name=world.service.name,
            description=world.service.description,
            income_code=world.service.income_code,
            half_days=h,
            price_per_day_pence=p,
            net_pence=pricing.line_net_pence(h, p),
            vat_treatment=t,
            vat_rate_bp=r,
        )
        for i, (h, p, t, r) in enumerate(lines, start=1)
    ]
    document.vat_bands = [
        DocumentVatBand(
            position=i,
            vat_treatment=b.treatment,
            vat_rate_bp=b.rate_bp,
            net_pence=b.net_pence,
            vat_pence=b.vat_pence,
        )
        for i, b in enumerate(totals.bands, start=1)
    ]
    db.session.add(document)
    db.session.flush()
    return document


def card_payment_for_access(world: World) -> tuple[Any, Any]:
    """Stripe keys, a credit note and a held card payment (for the route x role test, which
    answers for Stripe with tests/stripe_fake.py)."""
    world.council.stripe_secret_key = SECRET_KEY
    world.council.stripe_webhook_secret = WEBHOOK_SECRET
    _order, invoice = charged_order(world, 2, school=world.academy)
    credit_note = issue_document(
        world,
        document_type=DocumentType.CREDIT_NOTE,
        credits=invoice,
        lines=[(1, 45_000, VatTreatment.STANDARD, 2000)],
    )
    review = CardPaymentReview(
        kind=ReviewKind.PAYMENT,
        stripe_object_id="pi_access",
        stripe_payment_intent="pi_access",
        amount_pence=100,
        currency="GBP",
        problem="For the access test",
    )
    db.session.add(review)
    db.session.commit()
    return credit_note, review


def export_for_access(world: World) -> Any:
    """A sales ledger XLSX export of today's documents, its file built (the test queue runs at
    once), for the export pages' access checks."""
    export = exports.create_export(
        ExportKind.SALES_XLSX,
        today(),
        today(),
        world.users[Role.LA_FINANCE],
        exclude_already_exported=False,
    )
    export_builds.queue_build(export)
    db.session.commit()
    return export


def csv_imports_for_access(world: World) -> dict[str, Any]:
    """A previewed CSV file of each kind (staff, opening balances), one row each, by kind."""
    records = {}
    for kind in CsvImportKind:
        record = CsvImport(
            kind=kind,
            filename=f"{kind.value}.csv",
            uploaded_by_id=world.users[Role.LA_ADMIN].id,
            rows="[]",
        )
        db.session.add(record)
        records[kind.value] = record
    db.session.commit()
    return records


def remittance_for_access(world: World) -> Any:
    """A remittance from the world's school with a CSV file (for the route × role test); it
    covers no invoice, so matching it is refused with a message."""
    remittance = Remittance(
        school_id=world.school.id,
        form_key="access",
        amount_pence=100,
        paid_on=today(),
        reference="BACS REMIT 1",
        submitted_by_id=world.users[Role.SCHOOL_BUSINESS_MANAGER].id,
        file_name="remittance.csv",
        file_type="csv",
        file_content=b"invoice,amount\nINV-1,1.00\n",
        file_bytes=26,
    )
    db.session.add(remittance)
    db.session.commit()
    return remittance
