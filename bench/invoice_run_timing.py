"""The invoice run's benchmark helpers: time issuing a run's documents serially and in parallel.

Used by bench/invoices.py (`invoice_run_figure`), on a scratch copy of the demo data. They drive
the invoice run's own pieces (`runs.renderer`, issuing's `prepare_charge` and `finish`) exactly
as a run does, inside savepoints that are rolled back: nothing is left in the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from traded_app.extensions import db
from traded_app.models import (
    Order,
    OrderLine,
    OrderStatus,
    School,
    Service,
    ServicePrice,
    ServiceVat,
    User,
)
from traded_app.models.base import utcnow
from traded_app.models.types import BillingRoute, VatTreatment
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents.runs import (
    BATCH_SIZE,
    InvoiceRunError,
    available_cores,
    renderer,
)
from traded_app.services.platform.after_commit import suppressed
from traded_app.services.platform.settings import current_academic_year


@dataclass(frozen=True)
class RunTimings:
    documents: int
    workers: int
    serial_seconds: float
    parallel_seconds: float

    @property
    def ratio(self) -> float:
        return self.parallel_seconds / self.serial_seconds if self.serial_seconds else 0.0


def benchmark_run(orders: int | None = None, workers: int | None = None) -> RunTimings:
    """Time issuing a run's documents (number, rows, PDF, stored file, insert) serially and in
    parallel, for one confirmed order of `orders` schools (default: every school with a
    quadrant), made for the purpose. Needs an app context on a database with the demo data and a
    scratch INVOICE_DIR. Everything is rolled back afterwards (each pass in a savepoint; the PDF
    files stay, and are replaced when those numbers are next issued).

    The parallel pass includes starting its pool of processes, as a real run does."""
    workers = max(2, workers or available_cores())
    with suppressed(db.session):  # the bench's documents e-mail nobody
        return _benchmark(orders, workers)


def _benchmark(orders: int | None, workers: int) -> RunTimings:
    outer = db.session.begin_nested()
    try:
        made = _bench_orders(orders)
        if not made:
            raise InvoiceRunError("No schools with a quadrant and a priced service to bench with")
        # Warm this process's renderer, as a long-running worker's would be.
        warm = db.session.begin_nested()
        with renderer(1) as submit:
            submit(invoicing.prepare_charge(made[0], None).data).result()
        warm.rollback()
        timings = []
        for pass_workers in (1, workers):
            savepoint = db.session.begin_nested()
            started = time.perf_counter()
            with renderer(pass_workers) as submit:
                for first in range(0, len(made), BATCH_SIZE):
                    batch = made[first : first + BATCH_SIZE]
                    ready = [invoicing.prepare_charge(order, None) for order in batch]
                    futures = [submit(r.data) for r in ready]
                    for r, future in zip(ready, futures, strict=True):
                        invoicing.finish(r, future.result())
                    db.session.flush()
            timings.append(time.perf_counter() - started)
            savepoint.rollback()
    finally:
        outer.rollback()
    return RunTimings(len(made), workers, timings[0], timings[1])


def _bench_orders(limit: int | None) -> list[Order]:
    """One confirmed one-day order per school for the bench (flushed in the caller's savepoint)."""
    year = current_academic_year()
    if year is None:
        return []
    priced = db.session.execute(
        select(Service, ServicePrice)
        .join(ServicePrice, ServicePrice.service_id == Service.id)
        .where(ServicePrice.academic_year_id == year.id)
        .order_by(Service.id)
        .limit(1)
    ).first()
    if priced is None:
        return []
    service, price = priced
    author = db.session.execute(select(User).order_by(User.id).limit(1)).scalar_one_or_none()
    if author is None:
        return []
    query = select(School).where(School.quadrant_id.is_not(None)).order_by(School.id)
    if limit is not None:
        query = query.limit(limit)
    made = []
    now = utcnow()
    for school in db.session.execute(query).scalars():
        vat = db.session.execute(
            select(ServiceVat).where(
                ServiceVat.service_id == service.id,
                ServiceVat.customer_type == school.customer_type,
            )
        ).scalar_one_or_none()
        recharge = school.billing_route == BillingRoute.RECHARGE
        treatment = vat.treatment if vat and not recharge else VatTreatment.OUTSIDE_SCOPE
        rate = vat.vat_rate_bp if vat and not recharge else 0
        net = price.price_per_day_pence
        order = Order(
            school_id=school.id,
            school=school,
            academic_year_id=year.id,
            academic_year=year,
            status=OrderStatus.CONFIRMED,
            created_by_id=author.id,
            po_number="BENCH",
            half_days=2,
            net_pence=net,
            vat_pence=net * rate // 10_000,
            gross_pence=net + net * rate // 10_000,
            submitted_at=now,
            confirmed_at=now,
            quadrant_id=school.quadrant_id,
        )
        order.lines = [
            OrderLine(
                service_id=service.id,
                service=service,
                half_days=2,
                price_per_day_pence=price.price_per_day_pence,
                vat_treatment=treatment,
                vat_rate_bp=rate,
            )
        ]
        db.session.add(order)
        made.append(order)
    db.session.flush()
    return made
