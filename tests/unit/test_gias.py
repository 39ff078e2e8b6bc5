"""Reading a GIAS export: columns, encodings, the council's LA code and bad files (no database)."""

from __future__ import annotations

import codecs
import io

import pytest

from tests.factories import GIAS_HEADER, gias_csv, gias_row
from traded_app.services.council.gias_file import GiasFileError, read_file


def _read(data: bytes, la_code: str = "881", **kwargs: int) -> object:
    return read_file(io.BytesIO(data), la_code, **kwargs)


def test_keeps_only_the_councils_schools_and_classifies_them() -> None:
    rows = [
        gias_row(1001, "Oak Primary"),
        gias_row(
            1002,
            "Elm Academy",
            **{
                "EstablishmentTypeGroup (name)": "Academies",
                "TypeOfEstablishment (name)": "Academy converter",
                "PhaseOfEducation (name)": "Secondary",
            },
        ),
        gias_row(1003, "Thurrock School", **{"LA (code)": "883"}),
        gias_row(
            1004, "Private School", **{"EstablishmentTypeGroup (name)": "Independent schools"}
        ),
        gias_row(
            1005,
            "Hill Special",
            **{
                "TypeOfEstablishment (name)": "Community special school",
                "PhaseOfEducation (name)": "Not applicable",
            },
        ),
        gias_row(
            1006,
            "The PRU",
            **{
                "TypeOfEstablishment (name)": "Pupil referral unit",
                "PhaseOfEducation (name)": "Not applicable",
            },
        ),
    ]
    parsed = _read(gias_csv(rows))
    kinds = {r["urn"]: (r["type"], r["phase"]) for r in parsed.records}  # type: ignore[attr-defined]
    assert kinds == {
        1001: ("la_maintained", "primary"),
        1002: ("academy", "secondary"),
        1005: ("special", "special"),
        1006: ("pru", "pru"),
    }
    assert parsed.other_la_rows == 1 and parsed.skipped_types == 1  # type: ignore[attr-defined]
    assert parsed.rows_read == 6  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_reads_the_encodings_gias_uses(encoding: str) -> None:
    data = gias_csv([gias_row(1001, "St George’s Église School – Café")], encoding=encoding)
    parsed = _read(data)
    assert parsed.records[0]["name"] == "St George’s Église School – Café"  # type: ignore[attr-defined]
    if encoding == "utf-8-sig":
        assert data.startswith(codecs.BOM_UTF8)


def test_windows_1252_found_late_in_the_file_is_still_read() -> None:
    rows = [gias_row(1000 + i, f"School {i}") for i in range(3000)]
    rows.append(gias_row(9999, "Ste Marie’s"))
    parsed = _read(gias_csv(rows, encoding="cp1252"))
    assert parsed.encoding == "cp1252"  # type: ignore[attr-defined]
    assert parsed.records[-1]["name"] == "Ste Marie’s"  # type: ignore[attr-defined]


def test_missing_or_renamed_columns_are_named() -> None:
    header = [c if c != "DistrictAdministrative (name)" else "District" for c in GIAS_HEADER]
    data = (",".join(header) + "\r\n" + ",".join(["1"] * len(header)) + "\r\n").encode()
    with pytest.raises(GiasFileError) as error:
        _read(data)
    assert "missing the GIAS column DistrictAdministrative (name)" in error.value.problems[0]


def test_duplicate_and_bad_urns_are_listed_with_rows() -> None:
    rows = [gias_row(1001, "A"), gias_row(1002, "B"), gias_row(1001, "A again")]
    rows.append({**gias_row(1, "Bad"), "URN": "12x"})
    with pytest.raises(GiasFileError) as error:
        _read(gias_csv(rows))
    problems = error.value.problems
    assert "Row 5: the URN “12x” is not a number" in problems
    assert "URN 1001 appears more than once, on rows 2, 4" in problems


def test_another_las_file_says_which_codes_it_has() -> None:
    with pytest.raises(GiasFileError) as error:
        _read(gias_csv([gias_row(1001, "A", **{"LA (code)": "883"})]))
    assert "no schools for LA code 881 (it has LA codes 883)" in error.value.problems[0]


def test_junk_and_oversized_files_are_refused_quickly() -> None:
    junk = bytes(range(256)) * 4096  # binary, no GIAS header
    with pytest.raises(GiasFileError) as error:
        _read(junk)
    assert "not a CSV file from Get Information About Schools" in error.value.problems[0]
    with pytest.raises(GiasFileError) as error:
        _read(b"x" * 5_000_000)  # one enormous line
    assert "not a CSV file" in error.value.problems[0]
    big = gias_csv([gias_row(1000 + i, f"School {i}") for i in range(2000)])
    with pytest.raises(GiasFileError) as error:
        _read(big, max_bytes=100_000)
    assert "larger than" in error.value.problems[0]
    with pytest.raises(GiasFileError):
        _read(b"")
