"""Read a text file (gunzipped if ``.gz``) in a given encoding, with
errors that name the file, the line and the likely real encoding."""

from __future__ import annotations

import codecs
import gzip
import zlib
from pathlib import Path
from typing import Any

from gnnkit.errors import DataError


def decode_file(path: Any, encoding: str = "utf-8") -> str:
    """Contents of a text file (gunzipped if ``.gz``) as ``str``.

    A leading byte-order mark is dropped, so files saved by Excel as
    "CSV UTF-8" read like any other.

    Raises:
        DataError: the file is missing, a folder, not valid gzip, UTF-16
            while ``encoding`` is UTF-8, or a byte is not valid in
            ``encoding``; the message names the line, the byte and its
            offset, and suggests ``encoding='latin-1'`` or ``'cp1252'``.
    """
    path = Path(path)
    wide = check_encoding(encoding).startswith(("utf-16", "utf-32"))
    payload = _read_payload(path)
    if payload[:2] in (b"\xff\xfe", b"\xfe\xff") and "16" not in encoding:
        raise DataError(
            "the file is UTF-16 (it starts with a UTF-16 byte-order mark); "
            "save it as UTF-8 or pass encoding='utf-16'.",
            path=path,
            line=1,
        )
    if wide and b"\x00" not in payload and _is_utf8(payload):
        raise DataError(
            f"the file may not be {encoding}: it has no zero bytes, which "
            f"{encoding} text of Latin letters and digits always has, and "
            "it reads as UTF-8; drop the encoding option or pass "
            "encoding='utf-8'.",
            path=path,
        )
    try:
        return payload.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = payload.count(b"\n", 0, err.start) + 1
        where = "offset" if path.suffix.lower() != ".gz" else "unzipped offset"
        likely = ("the file reads as UTF-8: pass encoding='utf-8'"
                  if _is_utf8(payload) else "the file is probably Latin-1 "
                  "or Windows-1252: pass encoding='latin-1' or "
                  "encoding='cp1252'")
        raise DataError(
            f"byte 0x{payload[err.start]:02X} at file {where} {err.start} "
            f"is not valid {encoding}; {likely}.",
            path=path,
            line=line,
        ) from None


def check_encoding(encoding: Any) -> str:
    """The codec name of ``encoding`` (e.g. ``"utf-16"``).

    Raises:
        DataError: Python knows no such encoding; the message names the
            option and the value.
    """
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError):
        raise DataError(
            f"unknown encoding {encoding!r} (--encoding / encoding=); use "
            "a Python codec name such as 'utf-8', 'latin-1', 'cp1252' or "
            "'utf-16'."
        ) from None


def _is_utf8(payload: bytes) -> bool:
    """True when ``payload`` is valid UTF-8."""
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_payload(path: Path) -> bytes:
    """The bytes of ``path``, gunzipped when its name ends in ``.gz``."""
    if path.is_dir():
        raise DataError("is a folder, not a file.", path=path)
    if not path.is_file():
        raise DataError("file not found.", path=path)
    payload = path.read_bytes()
    if path.suffix.lower() != ".gz":
        return payload
    try:
        return gzip.decompress(payload)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(
            f"not a valid gzip file ({err}); re-download or re-compress "
            "it, or drop the .gz suffix if it is plain text.",
            path=path,
        ) from None
