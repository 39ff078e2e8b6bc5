"""Journey: the business managers of the demo trust's three academies each open *Tell the council
you have paid*; the two academies whose invoices the trust's demo remittance covers see it, with
only their own invoice, and the third does not (axe-core on every page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Journey
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.browser

ACADEMIES = ("sbm5@example.org", "sbm7@example.org", "sbm10@example.org")
TRUST_REFERENCE = "TCLT BACS 0412"


def test_each_academy_sees_only_its_part_of_the_trusts_remittance(journey: Journey) -> None:
    page = journey.page
    seen_by = []
    for email in ACADEMIES:
        sign_in(journey, email)
        journey.goto("/remittances")
        journey.check()
        expect(page.get_by_role("heading", name="Remittances from your trust")).to_be_visible()
        section = page.locator("#trust-remittances")
        if section.count() and TRUST_REFERENCE in section.inner_text():
            row = section.locator("tbody tr", has_text=TRUST_REFERENCE)
            # One invoice of its own, and nothing of the trust's note or advice file.
            expect(row.get_by_role("link")).to_have_count(1)
            assert "central account" not in page.content()
            assert "trust-remittance-advice" not in page.content()
            seen_by.append(email)
        page.get_by_role("button", name="Sign out").click()
        journey.check()
    assert len(seen_by) == 2
