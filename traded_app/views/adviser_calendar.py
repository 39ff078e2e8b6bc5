"""Advisers' calendars: a month with free half-days, the private iCalendar feed and its address,
and the service manager's view of every adviser's load by week and quadrant."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from traded_app.access import public, roles_required
from traded_app.domain.numbers import whole_number
from traded_app.domain.types import Role
from traded_app.forms.auth import EmptyForm
from traded_app.services.days import adviser_calendar, visits
from traded_app.services.platform.settings import today
from traded_app.views.years import chosen_monday

bp = Blueprint("adviser_calendar", __name__)

ADVISERS = frozenset({Role.ADVISER, Role.LA_ADMIN})


def _chosen_adviser() -> tuple[visits.User | None, list[visits.User]]:
    """The adviser whose calendar is shown: yourself, or whom the service manager chose."""
    advisers = visits.advisers()
    if current_user.role == Role.ADVISER:
        return current_user, advisers
    wanted = whole_number(request.args.get("adviser"))
    return next(
        (a for a in advisers if a.id == wanted), advisers[0] if advisers else None
    ), advisers


def _month_arg() -> tuple[int, int]:
    raw = request.args.get("month", "")
    try:
        year, month = (int(part) for part in raw.split("-", 1)) if raw else (0, 0)
        date(year, month, 1)
    except ValueError:
        shown = today()
        return shown.year, shown.month
    return year, month


@bp.route("/visits/month")
@roles_required(ADVISERS)
def month() -> str:
    """A month of one adviser's visits, with each weekday's free half-days."""
    year, month_number = _month_arg()
    first, last = adviser_calendar.month_bounds(year, month_number)
    adviser, advisers = _chosen_adviser()
    days = adviser_calendar.days_between(adviser.id, first, last) if adviser else []
    before = first - timedelta(days=1)
    after = last + timedelta(days=1)
    return render_template(
        "visits/month.html",
        first=first,
        days=days,
        adviser=adviser,
        advisers=advisers,
        previous_month=f"{before:%Y-%m}",
        next_month=f"{after:%Y-%m}",
        free=sum(day.free for day in days if day.on >= today()),
        today=today(),
        against_label=visits.against_label,
    )


@bp.route("/visits/calendar-feed", methods=["GET", "POST"])
@roles_required(ADVISERS)
def calendar_feed() -> str | BaseResponse:
    """The address of your private calendar feed; a POST makes one (a new one replaces the old,
    which stops working)."""
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        had_one = bool(current_user.calendar_token)
        adviser_calendar.reset_feed(current_user)
        flash(
            "You have a new calendar address. The old one no longer works."
            if had_one
            else "Your calendar address is ready.",
            "success",
        )
        return redirect(url_for("adviser_calendar.calendar_feed"))
    token = current_user.calendar_token
    return render_template(
        "visits/calendar_feed.html",
        feed_url=url_for("adviser_calendar.feed", token=token, _external=True) if token else "",
        form=form,
    )


@bp.route("/calendar/<token>.ics")
@public
def feed(token: str) -> Response:
    """The adviser's visits for their calendar program; the token is the only key."""
    adviser = adviser_calendar.adviser_for_token(token)
    if adviser is None:
        abort(404)
    body = adviser_calendar.ics_feed(adviser, request.host.split(":")[0])
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="visits.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/council/adviser-load")
@roles_required(Role.LA_ADMIN)
def adviser_load() -> str:
    """Every adviser's half-days in a week, by day and by quadrant."""
    monday = chosen_monday()
    quadrants = adviser_calendar.quadrants()
    chosen = whole_number(request.args.get("quadrant"))
    quadrant = next((q for q in quadrants if q.id == chosen), None)
    loads = adviser_calendar.week_load(monday, quadrant.id if quadrant else None)
    return render_template(
        "council/adviser_load.html",
        monday=monday,
        weekdays=[monday + timedelta(days=n) for n in range(5)],
        loads=loads,
        quadrants=quadrants,
        quadrant=quadrant,
        previous_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
    )
