"""Each council role's landing page answers its question first (issue 17): finance sees money
(owed, overdue by age, card payments to review, documents not sent) with Aged debt in the
navigation; the service manager sees orders waiting, set-up tasks not done and each team's days
sold of its capacity. (The headteacher's approval banner: test_ordering.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import text_of
from tests.factories import issue_document, submitted_order
from traded_app.extensions import db
from traded_app.models.types import Role
from traded_app.services.platform.settings import today


def test_finance_lands_on_money_first(world: Any, as_role: Any) -> None:
    world.other_school.billing_route = world.academy.billing_route
    issue_document(world, school=world.other_school, on=today() - timedelta(days=130))
    db.session.commit()
    page = as_role(Role.LA_FINANCE).get("/", follow_redirects=True).soup
    main = str(page.main)
    assert main.index('id="money"') < main.index("Orders waiting") < main.index("Open schools")
    assert text_of(page, "#money-owed") == "£540.00"
    by_age = text_of(page, "#money-by-age")
    assert "Over 90 days overdue £540.00" in by_age and "Not yet due £0.00" in by_age
    assert text_of(page, "#money-reviews") == "0"
    assert text_of(page, "#money-not-sent") == "1"  # issued by the factory, never e-mailed
    nav = {a.get_text(strip=True): a["href"] for a in page.select(".govuk-service-navigation a")}
    assert nav["Aged debt"] == "/finance/aged-debt"


def test_other_council_roles_see_no_money_section(world: Any, as_role: Any) -> None:
    for role in (Role.LA_ADMIN, Role.ADVISER):
        page = as_role(role).get("/council/").soup
        assert page.select_one("#money") is None
        assert "Aged debt" not in text_of(page, ".govuk-service-navigation")


def test_the_service_manager_sees_orders_waiting_setup_and_capacity(
    world: Any, as_role: Any
) -> None:
    submitted_order(world, {world.service: 3})
    page = as_role(Role.LA_ADMIN).get("/", follow_redirects=True).soup
    main = str(page.main)
    assert main.index("Orders needing your decision") < main.index("Open schools")
    assert "Orders needing your decision 1" in text_of(page, "main")
    assert page.select_one("#setup-not-done .app-figure") is not None
    headers = [th.get_text(strip=True) for th in page.select("table thead th")]
    assert "Traded days sold" in headers
