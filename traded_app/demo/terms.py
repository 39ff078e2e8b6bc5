"""The demo's terms and conditions: version 1 for this academic year and next, published by the
service manager (once: a year that has terms keeps them). Loaded after the demo orders, which
were placed before the council published its terms."""

from __future__ import annotations

from traded_app.models import AcademicYear, User
from traded_app.services.ordering import terms

TEXT = """1. These terms apply to traded school improvement services ordered for the academic year {year}.

2. An order is an offer to buy the days it lists at the prices shown. It becomes a contract when the council confirms it, subject to the quadrant team's capacity.

3. Days are booked with the school's adviser and delivered in term time. A visit cancelled by the school with less than the council's notice period is charged as delivered.

4. Days not used by 31 August lapse unless the council's rules for the year say otherwise.

5. Maintained schools are charged by internal recharge against their cost centre. Other schools receive a VAT invoice, payable within the council's payment terms. Where a school's invoices need a purchase order number, the invoice is issued once the school gives it.

6. Prices on a quote hold until the quote's valid-until date."""


def load_terms(years: list[AcademicYear], admin: User) -> int:
    """Publish version 1 for each year without terms; how many years have terms afterwards."""
    for year in years:
        if terms.current_for(year.id) is None:
            terms.publish(year, TEXT.format(year=year.label), admin)
    return sum(1 for year in years if terms.current_for(year.id) is not None)
