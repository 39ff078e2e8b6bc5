"""Bringing a catalogue in from a CSV file (with a preview), and copying a year's prices.

The file has one service a row, with the header row naming COLUMNS (in any order, any case).
Reading it changes nothing: `read_catalogue` checks every row and returns a preview of what
would be created, changed or left alone, or CatalogueFileError with every problem found (up to
MAX_PROBLEMS) and their row numbers. The preview travels to the confirming request signed with
the app's SECRET_KEY, and `apply` checks each row again before it writes.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import IO, Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from traded_app.domain.pricing import DaysError, MoneyError, parse_days, parse_pounds
from traded_app.extensions import db
from traded_app.models import AcademicYear, Service, ServicePrice
from traded_app.models.types import CustomerType, ServiceGroup, VatTreatment
from traded_app.services.council import catalogue
from traded_app.services.platform.errors import DomainError
from traded_app.services.platform.settings import app_config

MAX_BYTES = 1024 * 1024  # a catalogue of a few hundred services is a few tens of KB
MAX_ROWS = 2000
MAX_PROBLEMS = 10
COLUMNS = (
    "code",
    "name",
    "description",
    "group",
    "typical days",
    "minimum days",
    "maximum days",
    "income code",
    "price per day",
    "vat maintained",
    "vat academy",
    "vat other",
)
OPTIONAL = frozenset({"description"})
VAT_COLUMNS = {
    "vat maintained": CustomerType.MAINTAINED,
    "vat academy": CustomerType.ACADEMY,
    "vat other": CustomerType.OTHER,
}
SALT = "traded-catalogue-import"
EXAMPLE = (
    "code,name,description,group,typical days,minimum days,maximum days,income code,"
    "price per day,vat maintained,vat academy,vat other\n"
    "GOVREV,Governance review,A review of the governing board,governance,2,1,4,T1001,"
    "450.00,outside scope,standard 20,standard 20\n"
)


class CatalogueFileError(DomainError, ValueError):
    """The file cannot be imported; `problems` say why, with row numbers."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.problems = problems


@dataclass(frozen=True)
class Row:
    """One service of the file, checked."""

    line: int
    code: str
    name: str
    description: str
    group: str
    typical_half_days: int
    min_half_days: int
    max_half_days: int
    income_code: str
    price_pence: int
    vat: dict[str, tuple[str, int]]  # customer type -> (treatment, rate in basis points)
    action: str  # "new", "changed" or "unchanged"

    def details(self) -> catalogue.ServiceDetails:
        return catalogue.ServiceDetails(
            code=self.code,
            name=self.name,
            description=self.description,
            group=ServiceGroup(self.group),
            typical_half_days=self.typical_half_days,
            min_half_days=self.min_half_days,
            max_half_days=self.max_half_days,
            income_code=self.income_code,
            vat={
                CustomerType(c): catalogue.VatRule(VatTreatment(t), r)
                for c, (t, r) in self.vat.items()
            },
        )


@dataclass(frozen=True)
class Preview:
    year_start: int
    rows: list[Row]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


def _text(stream: IO[bytes], max_bytes: int) -> str:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise CatalogueFileError(
            [
                f"The file is larger than {max_bytes // 1024} KB, so it is not a catalogue CSV. "
                "Upload a CSV file with one service a row."
            ]
        )
    if not data.strip():
        raise CatalogueFileError(["The file is empty. Upload a CSV file with one service a row."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogueFileError(
            [
                "The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8 "
                "(comma delimited)” and upload it again."
            ]
        ) from None
    if "\x00" in text:
        raise CatalogueFileError(["The file is not a CSV file. Upload a CSV file."])
    return text


def _header(reader: Any) -> dict[str, int]:
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise CatalogueFileError(["The file is not a CSV file. Upload a CSV file."]) from None
    index = {" ".join(name.strip().lower().split()): i for i, name in enumerate(header)}
    missing = [c for c in COLUMNS if c not in index and c not in OPTIONAL]
    if missing:
        raise CatalogueFileError(
            [
                "The file is missing the column" + ("s " if len(missing) > 1 else " ")
                + ", ".join(f"“{c}”" for c in missing)
                + ". The first row must name the columns: " + ", ".join(COLUMNS) + "."
            ]
        )  # fmt: skip
    return index


def _vat(raw: str) -> tuple[str, int]:
    """'standard 20', 'reduced 5', 'zero', 'exempt' or 'outside scope' -> (treatment, rate)."""
    words = raw.strip().lower().replace("%", " ").split()
    rate = words.pop() if words and words[-1].replace(".", "", 1).isdigit() else ""
    name = "_".join(w for w in words if w not in {"rate", "rated", "the", "of", "vat"})
    name = {"outside": "outside_scope", "zero_rated": "zero"}.get(name, name)
    if name not in {t.value for t in VatTreatment}:
        raise ValueError(
            f"“{raw}” is not one of standard 20, reduced 5, zero, exempt or outside scope"
        )
    treatment = VatTreatment(name)
    return treatment.value, catalogue.parse_vat_rate(rate, treatment)


def _row(line: int, cells: list[str], index: dict[str, int], existing: dict[str, Service]) -> Row:
    def cell(name: str) -> str:
        i = index.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    code = cell("code").upper()
    group = cell("group").lower()
    if group not in {g.value for g in ServiceGroup}:
        raise ValueError(
            f"group “{cell('group')}” is not one of " + ", ".join(g.value for g in ServiceGroup)
        )
    try:
        half_days = {
            key: parse_days(cell(f"{key} days")) for key in ("typical", "minimum", "maximum")
        }
        price = parse_pounds(cell("price per day"))
    except (DaysError, MoneyError) as error:
        raise ValueError(str(error)) from None
    vat = {}
    for column, customer in VAT_COLUMNS.items():
        try:
            vat[customer.value] = _vat(cell(column))
        except (ValueError, KeyError) as error:
            raise ValueError(f"{column}: {error}") from None
    row = Row(
        line, code, cell("name"), cell("description"), group, half_days["typical"],
        half_days["minimum"], half_days["maximum"], cell("income code"), price, vat, "new",
    )  # fmt: skip
    if not row.name or len(row.name) > 160:
        raise ValueError("name must be given, 160 characters or fewer")
    if not row.income_code or len(row.income_code) > 32:
        raise ValueError("income code must be given, 32 characters or fewer")
    service = existing.get(code)
    try:
        catalogue.validate(row.details(), service)
    except catalogue.CatalogueError as error:
        raise ValueError(str(error)) from None
    action = "new" if service is None else _change(service, row)
    return Row(**{**asdict(row), "action": action})


def _change(service: Service, row: Row) -> str:
    current = (
        service.name, service.description, service.group.value, service.typical_half_days,
        service.min_half_days, service.max_half_days, service.income_code,
        {v.customer_type.value: (v.treatment.value, v.vat_rate_bp) for v in service.vat_rules},
    )  # fmt: skip
    wanted = (
        row.name, row.description, row.group, row.typical_half_days, row.min_half_days,
        row.max_half_days, row.income_code, row.vat,
    )  # fmt: skip
    return "unchanged" if current == wanted else "changed"


def read_catalogue(stream: IO[bytes], year: AcademicYear, max_bytes: int = MAX_BYTES) -> Preview:
    """The file checked, as a preview of what importing it would do; changes nothing."""
    reader = csv.reader(io.StringIO(_text(stream, max_bytes), newline=""))
    index = _header(reader)
    existing = {s.code: s for s in db.session.execute(select(Service)).scalars()}
    rows: list[Row] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append(f"The file has more than {MAX_ROWS} services.")
                break
            try:
                row = _row(line, cells, index, existing)
            except ValueError as error:
                problems.append(f"Row {line}: {error}")
                continue
            if row.code in seen:
                problems.append(f"Row {line}: code {row.code} is also on row {seen[row.code]}")
                continue
            seen[row.code] = line
            rows.append(row)
    except csv.Error:
        problems.append("The file is not a CSV file. Upload a CSV file.")
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"And {len(problems) - MAX_PROBLEMS} more problems.")
        raise CatalogueFileError(shown)
    if not rows:
        raise CatalogueFileError(["The file has a header row but no services."])
    return Preview(year.start_year, rows)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(app_config("SECRET_KEY"), salt=SALT)


def sign(preview: Preview) -> str:
    return _serializer().dumps(
        {"year": preview.year_start, "rows": [asdict(r) for r in preview.rows]}
    )


def unsign(token: str) -> Preview:
    try:
        data = _serializer().loads(token)
        rows = [
            Row(**{**r, "vat": {k: tuple(v) for k, v in r["vat"].items()}}) for r in data["rows"]
        ]
        return Preview(int(data["year"]), rows)
    except (BadSignature, KeyError, TypeError, ValueError):
        raise CatalogueFileError(
            ["The preview has expired or is damaged: upload the file again."]
        ) from None


def apply(preview: Preview) -> dict[str, int]:
    """Create and change the previewed services and set their price for the preview's year, in
    the caller's transaction (all or nothing: a row refused now refuses the whole import)."""
    year = db.session.execute(
        select(AcademicYear).where(AcademicYear.start_year == preview.year_start)
    ).scalar_one()
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    for row in preview.rows:
        service = db.session.execute(
            select(Service).where(func.upper(Service.code) == row.code)
        ).scalar_one_or_none()
        try:
            if service is None:
                service = catalogue.create_service(row.details())
                counts["new"] += 1
            else:
                counts[_change(service, row)] += 1
                catalogue.update_service(service, row.details())
            catalogue.set_price(service, year, row.price_pence)
        except catalogue.CatalogueError as error:
            raise CatalogueFileError([f"Row {row.line}: {error}"]) from None
    return counts


def copy_prices(source: AcademicYear, target: AcademicYear, uplift_bp: int = 0) -> int:
    """Give each active service priced in `source` and not yet in `target` the same price (raised
    by `uplift_bp` basis points, rounded to the penny); the number of prices set."""
    if source.id == target.id:
        raise catalogue.CatalogueError("Choose two different years", "target")
    priced = set(
        db.session.execute(
            select(ServicePrice.service_id).where(ServicePrice.academic_year_id == target.id)
        ).scalars()
    )
    copied = 0
    for price in db.session.execute(
        select(ServicePrice)
        .join(Service, Service.id == ServicePrice.service_id)
        .where(ServicePrice.academic_year_id == source.id, Service.active.is_(True))
    ).scalars():
        if price.service_id in priced:
            continue
        pence = (price.price_per_day_pence * (10_000 + uplift_bp) + 5_000) // 10_000
        catalogue.set_price(price.service, target, pence)
        copied += 1
    return copied
