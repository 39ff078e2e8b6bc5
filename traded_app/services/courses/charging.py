"""Charging course places through the numbered documents.

Each place knows what it owes as it stands (`owed_pence`: its price while it is confirmed or
attended, a part of it for a late cancellation or a no-show, nothing once the council cancelled
the session) and the net that documents have charged and credited for it so far. `settle`
brings the documents in line: one invoice (or, for a school billed by internal recharge, one
recharge) for what is owed and not yet charged, and a credit note against each earlier charge
for what was charged and is no longer owed. Documents are never changed: a place's row moves.

When places are charged is the council's setting: on booking (each place as it is confirmed) or
after the session (every place once the trainer has taken the register).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import CourseBooking, CoursePlace, Document, DocumentType, User
from traded_app.models.types import BillingRoute, VatTreatment
from traded_app.services.courses import CourseError
from traded_app.services.documents import issuing
from traded_app.services.documents.numbering import InvoicingError
from traded_app.services.platform.settings import council_settings, current_academic_year

ON_BOOKING = "on_booking"
AFTER_SESSION = "after_session"
TIMINGS = {
    ON_BOOKING: "When each place is confirmed",
    AFTER_SESSION: "After the session, once the register is taken",
}


def charge_timing() -> str:
    settings = council_settings()
    return settings.course_charge_timing if settings is not None else ON_BOOKING


def set_charge_timing(timing: str) -> None:
    if timing not in TIMINGS:
        raise CourseError("Select when places are charged", "timing")
    settings = council_settings()
    if settings is None:
        raise CourseError("Enter the council's details before choosing when places are charged")
    settings.course_charge_timing = timing
    db.session.flush()


def _may_charge(booking: CourseBooking) -> bool:
    if charge_timing() == ON_BOOKING:
        return True
    return booking.session.register_taken_at is not None


def _net_charged(place: CoursePlace) -> int:
    return place.charged_pence - place.credited_pence


def _charged(booking: CourseBooking) -> issuing.Charged:
    return issuing.Charged(
        school=booking.school,
        reference=booking.reference,
        po_number=booking.po_number,
        academic_year=current_academic_year(booking.session.session_date),
        course_booking_id=booking.id,
    )


def _vat(booking: CourseBooking, place: CoursePlace) -> tuple[VatTreatment, int]:
    if booking.school.billing_route == BillingRoute.RECHARGE:
        # An internal recharge is outside the scope of VAT, as an order's is.
        return VatTreatment.OUTSIDE_SCOPE, 0
    return place.vat_treatment, place.vat_rate_bp


def _lines(
    booking: CourseBooking, amounts: Iterable[tuple[CoursePlace, int]], what: str
) -> list[issuing.LineSpec]:
    """Lines of places grouped by amount and VAT, each naming its delegates."""
    course, session = booking.session.course, booking.session
    groups: dict[tuple[int, VatTreatment, int], list[CoursePlace]] = defaultdict(list)
    for place, amount in amounts:
        groups[(amount, *_vat(booking, place))].append(place)
    when = f"{session.session_date:%d %B %Y} {session.start_time}"
    return [
        issuing.LineSpec.of_places(
            code=course.code,
            name=course.title,
            description=f"{what}, session on {when}: " + ", ".join(p.name for p in places),
            income_code=course.income_code,
            places=len(places),
            price_per_place_pence=amount,
            vat_treatment=treatment,
            vat_rate_bp=rate,
        )
        for (amount, treatment, rate), places in sorted(
            groups.items(), key=lambda item: (-item[0][0], item[0][1].value)
        )
    ]


def settle(booking: CourseBooking, user: User | None, reason: str = "") -> list[Document]:
    """Issue what the booking's places need so that each has been charged what it owes: an
    invoice or recharge for the places owing more, a credit note (against the document that
    charged them) for the places owing less. Returns the documents issued. A document that
    cannot be issued (no billing address for a VAT invoice, the council's details not set up)
    refuses the whole step, as a CourseError saying why."""
    try:
        return _settle(booking, user, reason)
    except InvoicingError as error:
        raise CourseError(str(error)) from error


def _settle(booking: CourseBooking, user: User | None, reason: str) -> list[Document]:
    issued: list[Document] = []
    places = list(booking.places)
    to_credit: dict[int, list[tuple[CoursePlace, int]]] = defaultdict(list)
    for place in places:
        extra = _net_charged(place) - place.owed_pence
        if extra > 0 and place.charge_document_id is not None:
            to_credit[place.charge_document_id].append((place, extra))
    for document_id, amounts in sorted(to_credit.items()):
        charge = db.session.get(Document, document_id)
        assert charge is not None
        credit = issuing.issue_for(
            DocumentType.CREDIT_NOTE,
            _charged(booking),
            user,
            _lines(booking, amounts, "Credited"),
            credits=charge,
            reason=reason or "Course places no longer charged in full",
        )
        for place, amount in amounts:
            place.credited_pence += amount
        issued.append(credit)
    if _may_charge(booking):
        owing = [
            (place, place.owed_pence - _net_charged(place))
            for place in places
            if place.owed_pence > _net_charged(place)
        ]
        if owing:
            issuing.require_billing_address(booking.school)
            recharge = booking.school.billing_route == BillingRoute.RECHARGE
            document = issuing.issue_for(
                DocumentType.RECHARGE if recharge else DocumentType.INVOICE,
                _charged(booking),
                user,
                _lines(booking, owing, "Places"),
            )
            for place, amount in owing:
                place.charged_pence += amount
                place.charge_document_id = document.id
            issued.append(document)
    db.session.flush()
    return issued


def documents_of(booking: CourseBooking) -> list[Document]:
    return list(
        db.session.execute(
            select(Document).where(Document.course_booking_id == booking.id).order_by(Document.id)
        ).scalars()
    )
