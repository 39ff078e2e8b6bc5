"""Money between schools (issue 19, part 4): under the council's invoicing the buyer is charged
for each confirmed delivery by its billing route, and the provider is owed the charge less the
fee, to the penny; under direct invoicing nothing is charged and the provider's invoice is
recorded; finance lists, pays and exports what is owed to provider schools."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.brokering_money_helpers import (
    academy_buys,
    council_invoices,
    deliver_and_confirm,
    providers_invoice,
    school_buys,
)
from traded_app.extensions import db
from traded_app.models import Document, DocumentType, OutgoingEmail
from traded_app.models.brokering_money import PayoutKind, ProviderPayout
from traded_app.models.types import Role
from traded_app.services.brokering import engagements, money, payouts
from traded_app.services.brokering.offers import BrokeringError
from traded_app.services.platform.settings import today


def _post(client: Any, url: str, data: Any = None) -> Any:
    pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
    return client.post(url, data=MultiDict([("csrf_token", client.csrf_token()), *pairs]))


def _date_fields(name: str, day: Any) -> list[tuple[str, str]]:
    return [(name, str(day.day)), (name, str(day.month)), (name, str(day.year))]


def _errors(response: Any) -> list[str]:
    return [a.get_text(strip=True) for a in response.soup.select(".govuk-error-summary a")]


def _charges(engagement: Any) -> list[Document]:
    return list(
        db.session.execute(
            db.select(Document).where(Document.engagement_id == engagement.id)
        ).scalars()
    )


def test_a_maintained_buyer_is_recharged_and_the_academy_provider_owed_less_the_fee(
    app: Any, world: Any
) -> None:
    council_invoices(world, fee_bp=750)
    engagement = school_buys(world, rate_pence=36000, half_days=3)
    deliver_and_confirm(world, engagement, half_days=2)
    deliver_and_confirm(world, engagement, half_days=1)

    first, second = _charges(engagement)
    assert first.document_type == second.document_type == DocumentType.RECHARGE
    assert (first.net_pence, first.vat_pence) == (36000, 0)
    assert (second.net_pence, second.vat_pence) == (18000, 0)
    assert first.order_reference == engagement.reference
    assert first.lines[0].service_name == f"SEND support from {world.academy.name}"
    paid = money.money_of(engagement).payouts
    assert [(p.kind, p.charged_pence, p.fee_pence, p.amount_pence) for p in paid] == [
        (PayoutKind.PAYABLE, 36000, 2700, 33300),
        (PayoutKind.PAYABLE, 18000, 1350, 16650),
    ]
    assert engagement.status.value == "completed"


def test_an_academy_buyer_gets_a_vat_invoice_and_the_maintained_provider_a_recharge_credit(
    app: Any, world: Any
) -> None:
    council_invoices(world, fee_bp=1000, vat_rate_bp=2000)
    engagement = academy_buys(world, rate_pence=45050, half_days=3)
    deliver_and_confirm(world, engagement, half_days=1)

    (invoice,) = _charges(engagement)
    assert invoice.document_type == DocumentType.INVOICE
    assert (invoice.net_pence, invoice.vat_pence, invoice.gross_pence) == (22525, 4505, 27030)
    (payout,) = money.money_of(engagement).payouts
    assert payout.kind == PayoutKind.RECHARGE_CREDIT
    assert (payout.fee_pence, payout.amount_pence) == (2253, 20272)  # 2252.5 rounds up
    assert payout.provider_cost_centre == (world.school.cost_centre or "")


def test_an_engagement_keeps_the_terms_it_was_chosen_under(app: Any, world: Any) -> None:
    providers_invoice(world)
    engagement = school_buys(world)
    council_invoices(world, fee_bp=500)  # changed after the buyer chose
    deliver_and_confirm(world, engagement)
    assert _charges(engagement) == []
    assert money.money_of(engagement).by_council is False

    agent = school_buys(world)
    providers_invoice(world)  # changed back: the second engagement was chosen under the agent
    deliver_and_confirm(world, agent)
    assert len(_charges(agent)) == 1


def test_a_confirmation_that_cannot_be_charged_is_refused_and_nothing_is_kept(
    app: Any, as_role: Any, world: Any
) -> None:
    council_invoices(world)
    engagement = academy_buys(world)
    delivery = engagements.record_delivery(
        engagement, world.school.id, world.users[Role.HEADTEACHER], today(), 2, "", today()
    )
    world.academy.billing_address = ""
    world.academy.address = ""
    world.academy.postcode = ""
    db.session.commit()
    assert world.academy.invoice_address == ""
    client = as_role(None)
    client.sign_in_as(world.academy_sbm)
    url = f"/support/engagements/{engagement.id}/deliveries/{delivery.id}/confirm"
    response = _post(client, url, {"decision": "yes"})
    assert response.status_code == 200
    assert "has no billing address" in " ".join(_errors(response))
    db.session.expire_all()
    assert engagements.days_of(engagement).confirmed == 0
    assert _charges(engagement) == []


def test_both_schools_see_what_was_invoiced_and_paid(app: Any, as_role: Any, world: Any) -> None:
    council_invoices(world, fee_bp=500)
    engagement = school_buys(world, rate_pence=40000)
    deliver_and_confirm(world, engagement, half_days=2)
    (document,) = _charges(engagement)
    url = f"/support/engagements/{engagement.id}"

    buyer_page = as_role(Role.HEADTEACHER).get(url)
    money_box = buyer_page.soup.select_one("#engagement-money")
    assert money_box is not None
    assert document.number in money_box.get_text()
    assert "£400.00" in money_box.get_text()
    assert "brokerage" not in money_box.get_text().lower()  # the fee is the provider's business
    detail = as_role(Role.HEADTEACHER).get(f"/documents/{document.id}")
    link = detail.soup.find("a", string=engagement.reference)
    assert link is not None and link["href"] == url
    finance_view = as_role(Role.LA_FINANCE).get(f"/documents/{document.id}")
    assert finance_view.soup.find("a", string=engagement.reference)["href"] == (
        f"/council/support/engagements/{engagement.id}"
    )

    provider = as_role(None)
    provider.sign_in_as(world.academy_sbm)
    provider_box = provider.get(url).soup.select_one("#engagement-money")
    assert provider_box is not None
    text = " ".join(provider_box.get_text().split())
    assert "£380.00" in text  # £400 less 5%
    assert "£20.00" in text
    assert "Owed" in text


def test_direct_invoicing_records_the_providers_invoice(app: Any, as_role: Any, world: Any) -> None:
    providers_invoice(world)
    engagement = school_buys(world)
    provider = as_role(None)
    provider.sign_in_as(world.academy_sbm)
    url = f"/support/engagements/{engagement.id}/provider-invoices"
    refused = _post(
        provider,
        url,
        [("reference", ""), *_date_fields("issued_on", today() + timedelta(days=1))],
    )
    assert _errors(refused) == ["Enter the invoice's reference"]
    done = _post(
        provider,
        url,
        [("reference", "MA-0042"), ("amount", "480"), *_date_fields("issued_on", today())],
    )
    assert done.status_code == 302
    (invoice,) = money.provider_invoices(engagement)
    assert (invoice.reference, invoice.amount_pence) == ("MA-0042", 48000)
    again = _post(
        provider,
        url,
        [("reference", "ma-0042"), ("amount", "1"), *_date_fields("issued_on", today())],
    )
    assert "Invoice ma-0042 is recorded already" in _errors(again)
    buyer_page = as_role(Role.SCHOOL_BUSINESS_MANAGER).get(f"/support/engagements/{engagement.id}")
    assert "MA-0042" in buyer_page.soup.select_one("#engagement-money").get_text()
    # The buyer does not record the provider's invoice.
    buyer = _post(
        as_role(Role.SCHOOL_BUSINESS_MANAGER),
        url,
        [("reference", "X-2"), ("amount", "10"), *_date_fields("issued_on", today())],
    )
    assert "Only the providing school records the invoice it sent" in _errors(buyer)
    assert len(money.provider_invoices(engagement)) == 1


def test_the_council_cannot_record_an_invoice_it_issued_itself(app: Any, world: Any) -> None:
    council_invoices(world)
    engagement = school_buys(world)
    with pytest.raises(BrokeringError, match="The council invoices this support"):
        money.record_provider_invoice(engagement, None, world.academy_sbm, "X-1", today(), 100)


def test_finance_lists_pays_and_exports_what_is_owed_to_provider_schools(
    app: Any, as_role: Any, world: Any
) -> None:
    council_invoices(world, fee_bp=500)
    engagement = school_buys(world, rate_pence=40000)
    deliver_and_confirm(world, engagement, half_days=2)
    (payout,) = money.money_of(engagement).payouts
    finance = as_role(Role.LA_FINANCE)

    page = finance.get("/finance/payments-to-schools")
    row = page.soup.select_one(f"#payout-{payout.id}")
    assert row is not None and "£380.00" in row.get_text()
    assert world.academy.name in row.get_text()

    url = f"/finance/payments-to-schools/{payout.id}/paid"
    refused = _post(finance, url, [("payment_reference", ""), *_date_fields("paid_on", today())])
    assert "Enter the payment's reference" in _errors(refused)
    done = _post(
        finance, url, [("payment_reference", "BACS 7781"), *_date_fields("paid_on", today())]
    )
    assert done.status_code == 302
    db.session.expire_all()
    payout = db.session.get(ProviderPayout, payout.id)
    assert (payout.paid_on, payout.payment_reference) == (today(), "BACS 7781")
    (told,) = db.session.execute(
        db.select(OutgoingEmail).where(OutgoingEmail.kind == "provider_payout")
    ).scalars()
    assert told.recipients == world.academy_sbm.email
    assert "£380.00" in told.subject and "BACS 7781" in told.body and "£20.00" in told.body
    assert payouts.totals().owed_count == 0
    twice = _post(finance, url, [("payment_reference", "X"), *_date_fields("paid_on", today())])
    assert "marked paid" in " ".join(_errors(twice))

    exported = finance.get(
        f"/finance/payments-to-schools.csv?date_from={today().isoformat()}"
        f"&date_to={today().isoformat()}"
    )
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [
        (r["kind"], r["charged_net"], r["fee"], r["owed_to_provider"], r["payment_reference"])
        for r in rows
    ] == [("payable", "400.00", "20.00", "380.00", "BACS 7781")]
    bad = finance.get("/finance/payments-to-schools.csv?date_from=nonsense")
    assert bad.status_code == 400


def test_the_service_manager_sets_how_support_is_paid(app: Any, as_role: Any, world: Any) -> None:
    admin = as_role(Role.LA_ADMIN)
    url = "/council/support/money"
    assert admin.get(url).status_code == 200
    form = {
        "billing": "council_agent",
        "fee": "60",
        "vat_treatment": "standard",
        "vat_rate": "20",
        "income_code": "S2S",
    }
    refused = _post(admin, url, form)
    assert "The brokerage fee must be 50% or less" in _errors(refused)
    assert money.money_settings().billing.value == "direct"
    assert _post(admin, url, {**form, "fee": "abc"}).status_code == 200
    done = _post(admin, url, {**form, "fee": "7.5"})
    assert done.status_code == 302
    settings = money.money_settings()
    assert (settings.billing.value, settings.fee_bp, settings.vat_rate_bp) == (
        "council_agent",
        750,
        2000,
    )
    assert as_role(Role.LA_FINANCE).get(url).status_code == 403


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    academy_buyer=st.booleans(),
    rate_pence=st.integers(min_value=1, max_value=150_000),
    fee_bp=st.integers(min_value=0, max_value=5_000),
    vat_rate_bp=st.sampled_from([2000, 500, 1750]),
    sessions=st.lists(st.sampled_from([1, 2]), min_size=1, max_size=3),
)
def test_every_figure_adds_up_to_the_penny_on_both_routes(
    app: Any,
    world: Any,
    academy_buyer: bool,
    rate_pence: int,
    fee_bp: int,
    vat_rate_bp: int,
    sessions: list[int],
) -> None:
    council_invoices(world, fee_bp=fee_bp, vat_rate_bp=vat_rate_bp)
    buys = academy_buys if academy_buyer else school_buys
    engagement = buys(world, rate_pence=rate_pence, half_days=sum(sessions))
    for half_days in sessions:
        deliver_and_confirm(world, engagement, half_days=half_days)

    charges = _charges(engagement)
    assert len(charges) == len(sessions)
    owed = money.money_of(engagement).payouts
    for document, payout in zip(charges, owed, strict=True):
        (line,) = document.lines
        assert document.net_pence == line.net_pence == (line.half_days * rate_pence + 1) // 2
        assert document.gross_pence == document.net_pence + document.vat_pence
        if academy_buyer:
            assert document.document_type == DocumentType.INVOICE
            assert document.vat_pence == (document.net_pence * vat_rate_bp * 2 + 10_000) // 20_000
            assert payout.kind == PayoutKind.RECHARGE_CREDIT  # the maintained school provided
        else:
            assert (document.document_type, document.vat_pence) == (DocumentType.RECHARGE, 0)
            assert payout.kind == PayoutKind.PAYABLE  # the academy provided
        assert payout.charged_pence == document.net_pence
        assert payout.fee_pence + payout.amount_pence == document.net_pence
        assert abs(payout.fee_pence * 10_000 - document.net_pence * fee_bp) <= 5_000
    charged = sum(d.net_pence for d in charges)
    assert sum(p.fee_pence + p.amount_pence for p in owed) == charged
    assert charged == sum((h * rate_pence + 1) // 2 for h in sessions)


def test_the_council_lists_engagements_and_records_a_providers_invoice(
    app: Any, as_role: Any, world: Any
) -> None:
    providers_invoice(world)
    direct = school_buys(world)
    council_invoices(world, fee_bp=250)
    agent = academy_buys(world, rate_pence=30000)
    deliver_and_confirm(world, agent, half_days=2)
    finance = as_role(Role.LA_FINANCE)

    listed = finance.get("/council/support/engagements")
    rows = {
        r.select_one("a").get_text(strip=True): " ".join(r.get_text(" ").split())
        for r in listed.soup.select("#engagements tbody tr")
    }
    assert "The provider" in rows[direct.reference]
    assert "The council (fee 2.5%)" in rows[agent.reference]
    assert "£360.00" in rows[agent.reference]  # £300 and 20% VAT to the academy

    url = f"/council/support/engagements/{direct.id}/provider-invoices"
    done = _post(
        finance,
        url,
        [("reference", "MA-7"), ("amount", "1,200.50"), *_date_fields("issued_on", today())],
    )
    assert done.status_code == 302
    page = finance.get(f"/council/support/engagements/{direct.id}")
    assert "MA-7" in page.soup.select_one("#provider-invoices").get_text()
    assert "£1,200.50" in page.soup.select_one("#provider-invoices").get_text()
    refused = _post(
        finance,
        f"/council/support/engagements/{agent.id}/provider-invoices",
        [("reference", "X"), ("amount", "1"), *_date_fields("issued_on", today())],
    )
    assert "The council invoices this support" in " ".join(_errors(refused))
