"""Reading an uploaded CSV file: encodings, column names, and files that are not the CSV asked
for (each refused with one message a person can act on)."""

from __future__ import annotations

import io

import pytest

from traded_app.services.platform.csv_upload import CsvFileError, read_csv

COLUMNS = ("URN", "original number", "amount")


def _read(content: bytes, **kwargs: int) -> list[dict[str, str]]:
    return [row.values for row in read_csv(io.BytesIO(content), COLUMNS, **kwargs)]


def test_columns_match_whatever_their_case_spaces_or_order_and_extras_are_ignored() -> None:
    content = (
        b"Amount , Notes,ORIGINAL_NUMBER,urn\r\n12.50,x, A-1 ,100001\r\n\r\n3,y,A-2,100002\r\n"
    )
    assert _read(content) == [
        {"amount": "12.50", "original number": "A-1", "URN": "100001"},
        {"amount": "3", "original number": "A-2", "URN": "100002"},
    ]


def test_line_numbers_count_from_the_header_and_skip_blank_lines() -> None:
    rows = read_csv(io.BytesIO(b"URN,original number,amount\n\n1,a,2\n,,\n3,b,4\n"), COLUMNS)
    assert [row.line for row in rows] == [3, 5]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_utf8_with_or_without_bom_and_windows_1252(encoding: str) -> None:
    content = "URN,original number,amount\n1,Zoë-£1,2\n".encode(encoding)
    assert _read(content)[0]["original number"] == "Zoë-£1"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("URN,original number,amount\n1,a,2\n".encode("utf-16"), "UTF-16"),
        (b"", "The file is empty"),
        (b"URN,amount\n1,2\n", "Missing: original number"),
        (b"URN,original number,amount\n", "no rows under it"),
        (b"x" * 2000, "Missing: URN, original number, amount"),
        (b"URN,original number,amount\n" + b"1,a,2\n" * 5001, "more than 5,000 rows"),
    ],
)
def test_files_that_are_not_the_csv_asked_for(content: bytes, message: str) -> None:
    with pytest.raises(CsvFileError, match=message):
        _read(content)


def test_a_file_over_the_limit_is_refused_without_reading_it_all() -> None:
    class Endless(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            self.reads += len(buffer)
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(CsvFileError, match="larger than 1 MB"):
        read_csv(io.BufferedReader(stream), COLUMNS, max_bytes=1024 * 1024)
    assert stream.reads < 3 * 1024 * 1024
