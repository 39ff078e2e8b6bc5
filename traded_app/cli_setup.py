"""`flask create-service-manager`: the first account of a council going live."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from traded_app.extensions import db
from traded_app.services.council import setup
from traded_app.services.council.setup_state import SetupError
from traded_app.services.platform import audit


@click.command("create-service-manager")
@click.argument("email")
@click.argument("name")
@click.option("--another", is_flag=True, help="Add a service manager when there already is one.")
@with_appcontext
def create_service_manager(email: str, name: str, another: bool) -> None:
    """Invite a service manager: on an empty (migrated) database, the service's first account.

    Prints a link to set a password (it works once, for 24 hours; it is e-mailed too)."""
    try:
        with audit.acting_as(None, source="create-service-manager"):
            account = setup.create_service_manager(email, name, another=another)
    except SetupError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Service manager {account.user.name} <{account.user.email}> invited.")
    click.echo(f"Set a password within {setup.FIRST_INVITE_HOURS} hours (the link works once):")
    click.echo(account.link)
    click.echo('Then sign in and choose "Set up the service".')
