"""Flask commands: `flask --app wsgi <command>`. Each command commits once, at its end."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from traded_app.cli_finance import finance_cli
from traded_app.cli_setup import create_service_manager
from traded_app.demo import load_demo
from traded_app.demo.accounts import DEMO_PASSWORD, demo_account_lines
from traded_app.extensions import db
from traded_app.formatting import pounds
from traded_app.services.card_payments.keys import CardPaymentError
from traded_app.services.card_payments.reconcile import reconcile
from traded_app.services.council import catalogue
from traded_app.services.council.backup import (
    BackupError,
    backup_sqlite,
    default_destination,
    restore_sqlite,
    sqlite_path,
)
from traded_app.services.days import school_calendar
from traded_app.services.days.allocations import generate_core_allocations
from traded_app.services.documents import issuing as invoicing
from traded_app.services.documents import runs as invoice_runs
from traded_app.services.platform import audit
from traded_app.services.platform.after_commit import suppressed
from traded_app.services.platform.card_links import card_payments_enabled
from traded_app.services.platform.settings import (
    academic_start_year,
    council_settings,
    ensure_academic_year,
    today,
)


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(demo_accounts)
    app.cli.add_command(generate_allocations)
    app.cli.add_command(academic_years_cli)
    app.cli.add_command(invoices_cli)
    app.cli.add_command(finance_cli)
    app.cli.add_command(backup)
    app.cli.add_command(payments_cli)
    app.cli.add_command(restore_backup)
    app.cli.add_command(update_bank_holidays)
    app.cli.add_command(create_service_manager)


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo data (Essex schools, catalogue, accounts). Safe to run again."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException(
            "seed-demo is refused in production: it creates accounts with a published password."
        )
    with suppressed(db.session):  # the demo's orders e-mail nobody
        counts = load_demo()
        db.session.commit()
    click.echo(
        f"Demo data ready: {counts['schools']} schools, {counts['services']} services, "
        f"{counts['accounts']} demo accounts."
    )


@click.command("demo-accounts")
@with_appcontext
def demo_accounts() -> None:
    """Print the demo accounts and their password."""
    port = current_app.config["PORT"]
    click.echo("")
    click.echo(f"Traded services for schools: http://127.0.0.1:{port}")
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for line in demo_account_lines():
        click.echo(line)
    click.echo("")


@click.command("generate-allocations")
@with_appcontext
@click.option(
    "--year", "start_year", type=int, help="Start year of the academic year, e.g. 2026 for 2026/27."
)
def generate_allocations(start_year: int | None) -> None:
    """Generate core allocations for an academic year from the council's rules."""
    settings = council_settings()
    if settings is None:
        raise click.ClickException("Set up the council's settings first (or run seed-demo).")
    year = ensure_academic_year(start_year or academic_start_year(today()))
    total = generate_core_allocations(year, settings)
    db.session.commit()
    click.echo(f"Core allocations for {year.label}: {total / 2:g} days in all.")


GOVUK_BANK_HOLIDAYS = "https://www.gov.uk/bank-holidays.json"


@click.command("update-bank-holidays")
@with_appcontext
@click.option(
    "--file",
    "json_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved copy of GOV.UK's bank-holidays.json, for a server that cannot reach GOV.UK.",
)
def update_bank_holidays(json_file: Path | None) -> None:
    """Load England and Wales's bank holidays from GOV.UK (no visits are booked on them)."""
    if json_file is not None:
        data = json_file.read_bytes()
    else:
        try:
            with urllib.request.urlopen(GOVUK_BANK_HOLIDAYS, timeout=20) as answer:
                data = answer.read(2_000_000)
        except OSError as error:
            raise click.ClickException(
                f"Could not fetch {GOVUK_BANK_HOLIDAYS} ({error}). Save it on a machine that "
                "can reach GOV.UK and load it with --file."
            ) from None
    try:
        events = school_calendar.read_govuk_bank_holidays(data)
        count, years = school_calendar.update_bank_holidays(events)
    except school_calendar.CalendarError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"{count} bank holidays loaded for England and Wales, {events[0][0]:%-d %B %Y} to "
        f"{events[-1][0]:%-d %B %Y} ({years} years)."
    )


@click.group("academic-years")
def academic_years_cli() -> None:
    """Academic years: set up the years whose prices, allocations and visits can be entered."""


@academic_years_cli.command("ensure")
@with_appcontext
def ensure_academic_years() -> None:
    """Set up this academic year and the two ahead where missing (safe to run again).

    Pages never create a year: run this on each release (or once a year), or add the next
    year from the council settings page."""
    known = {year.start_year for year in catalogue.price_years()}
    with audit.acting_as(None, source="academic-years ensure"):
        years = catalogue.set_up_price_years()
    db.session.commit()
    for year in years:
        state = "already set up" if year.start_year in known else "set up now"
        click.echo(
            f"{year.label}: {year.starts_on:%-d %B %Y} to {year.ends_on:%-d %B %Y}, {state}."
        )


@click.group("invoices")
def invoices_cli() -> None:
    """Invoices: issue the documents of confirmed orders waiting to be charged."""


@invoices_cli.command("run")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes rendering PDFs here, besides any queue workers (default: the cores).",
)
@click.option("--batch-size", type=click.IntRange(min=1, max=500), default=20, show_default=True)
@with_appcontext
def run_invoices(workers: int | None, batch_size: int) -> None:
    """Run the invoice run: issue everything pending, one committed transaction per batch.

    Safe to run again after an interruption: nothing is issued twice, the rest is finished.
    Exits with status 1 when the run stopped or an order could not be charged."""
    try:
        run = invoice_runs.start(
            None, source="cli", workers=workers or invoice_runs.available_cores()
        )
    except invoice_runs.NothingToIssue as nothing:
        db.session.rollback()
        click.echo(f"{nothing}.")
        return
    except (invoice_runs.InvoiceRunError, invoicing.InvoicingError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"Invoice run {run.id}: {run.orders_total} orders, {run.workers} rendering processes."
    )

    def report(progress: object) -> None:
        click.echo(
            f"  {progress.done} of {progress.orders_total} done "  # type: ignore[attr-defined]
            f"({progress.issued} issued, {progress.failed} failed)"  # type: ignore[attr-defined]
        )

    run = invoice_runs.execute(run.id, batch_size=batch_size, on_batch=report)
    items = invoice_runs.items_of(run)
    click.echo(
        f"Invoice run {run.id} {run.status.label.lower()}: {run.issued} issued, {run.failed} failed."
    )
    for item in items.failed:
        click.echo(f"  Not issued: {item.order.reference} ({item.order.school.name}): {item.error}")
    if run.error:
        click.echo(f"  {run.error}")
    if run.status.value != "finished" or run.failed:
        raise SystemExit(1)


@click.command("backup")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Backup file to write (default: instance/backups/traded-<UTC time>.db).",
)
@with_appcontext
def backup(output: Path | None) -> None:
    """Write a consistent copy of the SQLite database, safe while the app runs."""
    try:
        source = sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
        result = backup_sqlite(
            source, output or default_destination(Path(current_app.instance_path))
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Backed up {source} to {result.path} ({result.size_bytes:,} bytes, "
        f"schema {result.alembic_revision})."
    )
    click.echo("Keep the INVOICE_DIR folder with it: issued PDFs are files, not in the database.")


@click.command("restore-backup")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database without asking.")
@with_appcontext
def restore_backup(backup_file: Path, yes: bool) -> None:
    """Replace the SQLite database with a backup made by `flask backup`."""
    try:
        target = sqlite_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm(
            f"Replace {target} with {backup_file}? Changes since the backup are lost", abort=True
        )
    db.session.remove()
    db.engine.dispose()
    try:
        result = restore_sqlite(backup_file, target)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {target} from {backup_file} (schema {result.alembic_revision}). "
        "Run `flask --app wsgi db upgrade` if the backup is from an older release."
    )


@click.group("payments")
def payments_cli() -> None:
    """Card payments through Stripe."""


@payments_cli.command("reconcile")
@click.option(
    "--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day."
)
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@with_appcontext
def reconcile_payments(date_from: Any, date_to: Any) -> None:
    """Compare Stripe's card payments and refunds in the dates with ours; list every difference.

    Exits with status 1 when there are differences."""
    if not card_payments_enabled():
        raise click.ClickException("Card payments are not set up (no Stripe keys).")
    try:
        result = reconcile(date_from.date(), date_to.date())
    except CardPaymentError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.session.rollback()
    click.echo(f"Card payments {result.date_from} to {result.date_to}:")
    click.echo(
        f"  payments: Stripe {result.stripe_payments} ({pounds(result.stripe_payments_pence)}), "
        f"here {result.our_payments} ({pounds(result.our_payments_pence)})"
    )
    click.echo(
        f"  refunds: Stripe {result.stripe_refunds} ({pounds(result.stripe_refunds_pence)}), "
        f"here {result.our_refunds} ({pounds(result.our_refunds_pence)})"
    )
    if result.matches:
        click.echo("No differences.")
        return
    click.echo(f"{len(result.differences)} differences:")
    for d in result.differences:
        stripe_amount = pounds(d.stripe_pence) if d.stripe_pence is not None else "none"
        ours = pounds(d.ours_pence) if d.ours_pence is not None else "none"
        click.echo(
            f"  {d.what} {d.stripe_id} {d.reference or '-'}: {d.problem} "
            f"(Stripe {stripe_amount}, here {ours})"
        )
    raise SystemExit(1)
