"""Files for the set-up tests: a real PNG of a given size, and catalogue CSVs."""

from __future__ import annotations

import struct
import zlib

CATALOGUE_HEADER = (
    "code,name,description,group,typical days,minimum days,maximum days,income code,"
    "price per day,vat maintained,vat academy,vat other"
)


def png_bytes(width: int, height: int) -> bytes:
    """A valid grey PNG of `width` by `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def catalogue_csv(*rows: str, header: str = CATALOGUE_HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


GOVREV = "GOVREV,Governance review,A review,governance,2,1,4,T1001,450,outside scope,standard 20,standard 20"
SAFE = (
    "SAFEAUD,Safeguarding audit,,safeguarding,1,0.5,2,T1002,500.50,outside scope,exempt,standard 20"
)


def multipart(fields: dict[str, str], files: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type, built here: the test client would spool a
    large body to a temporary file that nothing closes (an unraisable warning in a later test)."""
    boundary = "----traded-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (data, filename) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
