"""Credits of a partnership share (domain.share_credits): whatever days are credited, in
whatever steps, the credits never come to more than the share and, once every day is credited,
add up to it exactly, in pence, per VAT band."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from traded_app.domain import pricing
from traded_app.domain.share_credits import (
    ChargedBand,
    ShareCreditError,
    SharePart,
    credit,
    credited_net,
)
from traded_app.domain.types import VatTreatment

BANDS = [
    (VatTreatment.STANDARD, 2000),
    (VatTreatment.REDUCED, 500),
    (VatTreatment.OUTSIDE_SCOPE, 0),
    (VatTreatment.EXEMPT, 0),
]


@st.composite
def shares(draw: st.DrawFn) -> list[SharePart]:
    count = draw(st.integers(1, 4))
    parts = []
    for index in range(count):
        treatment, rate = draw(st.sampled_from(BANDS))
        parts.append(
            SharePart(
                key=f"S{index}",
                line_half_days=draw(st.integers(1, 40)),
                net_pence=draw(st.integers(0, 5_000_000)),
                vat_treatment=treatment,
                vat_rate_bp=rate,
            )
        )
    return parts


def charged_bands(parts: list[SharePart]) -> dict[tuple[VatTreatment, int], ChargedBand]:
    """The share document's VAT bands, as issuing works them out from its lines."""
    totals = pricing.totals(pricing.Line(2, p.net_pence, *p.band) for p in parts)
    return {(b.treatment, b.rate_bp): ChargedBand(b.net_pence, b.vat_pence) for b in totals.bands}


@settings(max_examples=300, deadline=None)
@given(parts=shares(), data=st.data())
def test_credits_never_pass_the_share_and_add_up_to_it_per_band(
    parts: list[SharePart], data: st.DataObject
) -> None:
    charged = charged_bands(parts)
    credited: dict[str, int] = {}
    net_by_band: dict[tuple[VatTreatment, int], int] = {}
    vat_by_band: dict[tuple[VatTreatment, int], int] = {}
    finish = data.draw(st.booleans(), label="credit every day in the end")
    for _step in range(data.draw(st.integers(0, 6), label="partial credits")):
        crediting = {
            p.key: data.draw(st.integers(0, p.line_half_days - credited.get(p.key, 0)))
            for p in parts
        }
        if not any(crediting.values()):
            continue
        note = credit(parts, charged, credited, crediting)
        for line in note.lines:
            credited[line.part.key] = credited.get(line.part.key, 0) + line.half_days
            assert line.net_pence >= 0
        for band in note.bands:
            key = (band.vat_treatment, band.vat_rate_bp)
            net_by_band[key] = net_by_band.get(key, 0) + band.net_pence
            vat_by_band[key] = vat_by_band.get(key, 0) + band.vat_pence
            assert band.net_pence >= 0 and band.vat_pence >= 0
        assert note.net_pence == sum(line.net_pence for line in note.lines)
    if finish:
        rest = {p.key: p.line_half_days - credited.get(p.key, 0) for p in parts}
        if any(rest.values()):
            note = credit(parts, charged, credited, rest)
            for line in note.lines:
                credited[line.part.key] = credited.get(line.part.key, 0) + line.half_days
            for band in note.bands:
                key = (band.vat_treatment, band.vat_rate_bp)
                net_by_band[key] = net_by_band.get(key, 0) + band.net_pence
                vat_by_band[key] = vat_by_band.get(key, 0) + band.vat_pence
    for key, band in charged.items():
        assert net_by_band.get(key, 0) <= band.net_pence
        assert vat_by_band.get(key, 0) <= band.vat_pence
        if finish:
            assert net_by_band.get(key, 0) == band.net_pence
            assert vat_by_band.get(key, 0) == band.vat_pence
    # Per line too: what is credited is the running total's share of the part.
    for part in parts:
        assert credited_net(part, credited.get(part.key, 0)) <= part.net_pence


@given(parts=shares())
def test_more_days_than_are_left_are_refused(parts: list[SharePart]) -> None:
    charged = charged_bands(parts)
    part = parts[0]
    try:
        credit(parts, charged, {}, {part.key: part.line_half_days + 1})
    except ShareCreditError as error:
        assert error.key == part.key
    else:
        raise AssertionError("credited more days than the line has")


def test_a_third_of_a_penny_goes_to_the_last_credit() -> None:
    # £100.00 for 3 half-days: credited a half-day at a time, 3333p, 3333p, 3334p.
    part = SharePart("S", 3, 10_000, VatTreatment.STANDARD, 2000)
    charged = {part.band: ChargedBand(10_000, 2_000)}
    first = credit([part], charged, {}, {"S": 1})
    second = credit([part], charged, {"S": 1}, {"S": 1})
    third = credit([part], charged, {"S": 2}, {"S": 1})
    assert [c.net_pence for c in (first, second, third)] == [3333, 3333, 3334]
    assert [c.vat_pence for c in (first, second, third)] == [666, 667, 667]
    assert sum(c.gross_pence for c in (first, second, third)) == 12_000


def test_nothing_to_credit_is_refused() -> None:
    part = SharePart("S", 2, 100, VatTreatment.STANDARD, 2000)
    try:
        credit([part], {part.band: ChargedBand(100, 20)}, {}, {"S": 0})
    except ShareCreditError as error:
        assert str(error) == "Enter the days to credit"
    else:
        raise AssertionError("an empty credit was given")
