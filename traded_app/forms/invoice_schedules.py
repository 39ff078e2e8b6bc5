"""The council's invoice schedule for one billing route: when its orders are charged."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextInput
from wtforms import Field, RadioField, SelectField, StringField
from wtforms.validators import InputRequired

from traded_app.domain.instalments import PlanPart
from traded_app.domain.numbers import whole_number
from traded_app.models.instalments import ChargeTiming

ROWS = 6  # instalments the form offers (a plan's rows left blank are not used)
YEARS = [("start", "the year it starts"), ("end", "the year it ends")]


class InvoiceScheduleForm(FlaskForm):
    timing = RadioField(
        "When are orders on this route charged?",
        widget=GovRadioInput(),
        choices=[(t.value, t.label) for t in ChargeTiming],
        validators=[InputRequired("Select when orders on this route are charged")],
    )
    name = StringField("Name of the plan", widget=GovTextInput())
    # Each instalment's share, day, month and year (share_1, day_1, month_1, year_1, …) are
    # added below; `parts` carries the plan's errors.
    parts = StringField("Instalments")

    def row_fields(self) -> list[dict[str, Field]]:
        return [
            {key: self[f"{key}_{n}"] for key in ("share", "day", "month", "year")}
            for n in range(1, ROWS + 1)
        ]

    def plan_parts(self) -> list[PlanPart] | None:
        """The typed rows as plan parts; None (with the error on `parts`) when one cannot be
        read. Rows left wholly blank are skipped."""
        parts = []
        for n, row in enumerate(self.row_fields(), start=1):
            typed = {key: str(field.data or "").strip() for key, field in row.items()}
            if not any(typed[key] for key in ("share", "day", "month")):
                continue
            share = whole_number(typed["share"])
            day = whole_number(typed["day"])
            month = whole_number(typed["month"])
            if share is None or day is None or month is None:
                self.parts.errors = [
                    f"Instalment {n}: enter its share in twelfths and its day and month as "
                    "whole numbers, like 7, 1 and 4 for 7/12 on 1 April"
                ]
                return None
            if not 1 <= month <= 12 or not 1 <= day <= 31 or not 1 <= share <= 12:
                self.parts.errors = [
                    f"Instalment {n}: the share must be 1 to 12 twelfths, the day 1 to 31 and "
                    "the month 1 to 12"
                ]
                return None
            parts.append(PlanPart(share, day, month, typed["year"] == "end"))
        return parts

    def fill(self, parts: list[PlanPart]) -> None:
        """Show `parts` in the rows (a GET: the saved plan, or a plan to start from)."""
        for row, part in zip(self.row_fields(), parts, strict=False):
            row["share"].data = str(part.share)
            row["day"].data = str(part.day)
            row["month"].data = str(part.month)
            row["year"].data = "end" if part.in_end_year else "start"


for _n in range(1, ROWS + 1):
    setattr(
        InvoiceScheduleForm,
        f"share_{_n}",
        StringField(f"Instalment {_n}: share in twelfths", widget=GovTextInput()),
    )
    setattr(
        InvoiceScheduleForm,
        f"day_{_n}",
        StringField(f"Instalment {_n}: day", widget=GovTextInput()),
    )
    setattr(
        InvoiceScheduleForm,
        f"month_{_n}",
        StringField(f"Instalment {_n}: month", widget=GovTextInput()),
    )
    setattr(
        InvoiceScheduleForm,
        f"year_{_n}",
        SelectField(f"Instalment {_n}: in", widget=GovSelect(), choices=YEARS, default="start"),
    )
