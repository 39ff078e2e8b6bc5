"""The application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map

from traded_app import web
from traded_app.access import check_every_route_declares_access
from traded_app.cli import register_cli
from traded_app.config import PROJECT_ROOT, ConfigError, load_settings
from traded_app.database import configure_engine
from traded_app.extensions import csrf, db, login_manager, migrate
from traded_app.limits import limiter
from traded_app.services.platform import after_commit, append_only, audit, jobs
from traded_app.services.platform import auth as auth_service
from traded_app.services.platform.settings import demo_data_loaded
from traded_app.views import (
    admin,
    adviser_calendar,
    auth,
    background,
    bespoke,
    brokering,
    brokering_council,
    brokering_money,
    calendar,
    card_payments,
    council,
    courses,
    courses_council,
    credit_notes,
    days,
    documents,
    feedback,
    finance,
    health,
    invoice_schedules,
    main,
    memberships,
    opening_balances,
    orders,
    partnership_orders,
    plans,
    quotes,
    school,
    school_details,
    statements,
    trust_invoices,
    trust_ordering,
    trusts,
    visit_reports,
)

__all__ = ["ConfigError", "create_app"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_app(environ: dict[str, str] | None = None, **overrides: Any) -> Flask:
    """Build the app from the environment (`environ` replaces os.environ, for tests).

    Raises ConfigError, with a message meant for the person starting the app, when a setting
    is missing or unsafe.
    """
    if environ is None:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
    settings = load_settings(environ)

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    # Ids in URLs are database integers: a number too big for the column is simply not found.
    app.url_map.converters["int"] = BoundedIntConverter
    app.config.from_mapping(settings.as_flask_config())
    app.config.update(overrides)
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if settings.is_production and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )

    _init_extensions(app)
    _register_blueprints(app)

    web.init_app(app)

    register_cli(app)

    check_every_route_declares_access(app)
    if settings.is_production:
        _refuse_demo_data(app)
    return app


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that matches only ASCII digits (Werkzeug's `\\d` also takes "１" and "٣") and
    only what fits a 32-bit signed column, so anything else is not found rather than a 500 on
    overflow. (The ids are 32-bit on PostgreSQL, so 2**63 - 1 would still overflow there.)"""

    regex = r"[0-9]+"

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    limiter.init_app(app)
    jobs.configure(app.config)

    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(auth_service.load_user_by_session_id)

    after_commit.init_app()
    audit.init_app()
    append_only.install()


def _register_blueprints(app: Flask) -> None:
    for module in (
        auth,
        brokering,
        brokering_council,
        brokering_money,
        council,
        credit_notes,
        health,
        main,
        memberships,
        opening_balances,
        orders,
        quotes,
        school,
        school_details,
        statements,
        trust_invoices,
        trust_ordering,
        trusts,
    ):
        app.register_blueprint(module.bp)
    for blueprint in days.blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(calendar.bp)
    app.register_blueprint(adviser_calendar.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(plans.bp)
    app.register_blueprint(bespoke.bp)
    app.register_blueprint(visit_reports.bp)
    app.register_blueprint(courses.bp)
    app.register_blueprint(courses_council.bp)
    app.register_blueprint(partnership_orders.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(invoice_schedules.bp)
    finance.init_app(app)
    app.register_blueprint(admin.bp)
    background.init_app(app)

    card_payments.init_app(app)
    # Stripe signs its webhook instead: the one POST without a CSRF token.
    csrf.exempt(card_payments.webhook)


def _refuse_demo_data(app: Flask) -> None:
    with app.app_context():
        try:
            loaded = demo_data_loaded()
        except SQLAlchemyError:
            return  # not migrated yet: `flask db upgrade` must still run
        if loaded:
            raise ConfigError(
                "This database holds the demo data (demo accounts with a published password); "
                "production refuses to start on it. Use a fresh database."
            )
