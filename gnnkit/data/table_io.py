"""Read table files (CSV, TSV, JSON Lines, TU's numeric lists) as text.

Every row keeps the 1-based file line it started on, so readers can name
the line of a bad cell even when a quoted cell spans several lines.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from gnnkit.data.decoding import decode_file
from gnnkit.data.features import INT_TEXT
from gnnkit.errors import DataError

PathLike = str | os.PathLike


@dataclass
class Table:
    """A table read as text, with the file line of every row.

    Args:
        frame (pd.DataFrame): cells as ``str`` (CSV/TSV) or JSON values.
        path (Path): the file it came from.
        lines (np.ndarray): 1-based file line of each row.
    """

    frame: pd.DataFrame
    path: Path
    lines: np.ndarray

    def column(self, name: str, role: str) -> pd.Series:
        """Column ``name``; a DataError lists the columns present."""
        if name not in self.frame.columns:
            raise DataError(
                f"no {role} column {name!r}; the columns are "
                f"{[str(c) for c in self.frame.columns]}.{self._hint()}",
                path=self.path,
                field=name,
            )
        return self.frame[name]

    def _hint(self) -> str:
        """Why a column may be missing: no rows, or another separator."""
        columns = [str(c) for c in self.frame.columns]
        if not columns:
            return " The file has no rows."
        if len(columns) > 1:
            return ""
        for sep, name in ((";", "semicolons"), ("\t", "tabs"),
                          (",", "commas"), ("|", "bars")):
            if sep in columns[0]:
                return (f" The header is separated by {name}; save the "
                        "file comma-separated as .csv or tab-separated as "
                        ".tsv.")
        return ""

    def keys(self, name: str, role: str) -> list[str]:
        """Column ``name`` as id strings (``3``, ``3.0``, ``"3"`` agree)."""
        return [id_key(v) for v in self.column(name, role)]

    def numbers(self, name: str, role: str) -> np.ndarray:
        """Column ``name`` as finite floats; a DataError names a bad cell."""
        raw = self.column(name, role)
        values = to_float(raw)
        bad = ~np.isfinite(values)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                f"{role} value {number_problem(raw.iloc[row])}; every cell "
                "must hold a finite number.",
                path=self.path,
                line=int(self.lines[row]),
                field=name,
            )
        return values

    def fail(self, message: str, row: int | None, field: str | None):
        """Raise a DataError located at data row ``row``."""
        line = None if row is None else int(self.lines[row])
        raise DataError(message, path=self.path, line=line, field=field)


def read_table(path: PathLike, encoding: str = "utf-8") -> Table:
    """Read a ``.csv``, ``.tsv`` or ``.jsonl`` file (optionally ``.gz``).

    CSV/TSV cells stay text: nothing becomes NaN, so words such as
    ``"NA"`` or ``"None"`` survive. The header is line 1; each row keeps
    the file line it starts on, counting blank lines and the extra lines
    of quoted cells that hold line breaks.

    Args:
        path (str or PathLike): the table file.
        encoding (str): text encoding (default: ``"utf-8"``).

    Returns:
        Table: the rows with their file lines.

    Raises:
        DataError: the type is not supported; the file is missing, empty,
            not valid gzip or not in ``encoding``; the header repeats a
            column name; or a row cannot be parsed or has fewer cells
            than the header.
    """
    path = Path(path)
    kind = path.name.lower().removesuffix(".gz")
    if not kind.endswith((".csv", ".tsv", ".jsonl")):
        raise DataError(
            "unsupported table type; use .csv, .tsv or .jsonl (optionally "
            ".gz).",
            path=path,
        )
    text = decode_file(path, encoding)
    if kind.endswith(".jsonl"):
        return _jsonl_table(text, path)
    return _csv_table(text, path, "\t" if kind.endswith(".tsv") else ",")


def _csv_table(text: str, path: Path, sep: str) -> Table:
    """Parse CSV/TSV text with pandas; lines come from the csv module."""
    if not text.strip():
        raise DataError(
            "the file is empty; a table needs a header line naming its "
            "columns.",
            path=path,
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(
            f"cannot parse the table ({str(err).strip()}).",
            path=path,
            line=_bad_line(text, sep, err),
        ) from None
    records = list(_records(text, sep))
    _check_layout(records, path)
    frame.columns = [str(c).strip() for c in frame.columns]
    lines = np.asarray([start for start, _ in records[1:]], dtype=np.int64)
    if len(lines) != len(frame):  # a layout pandas and csv read apart
        lines = np.arange(len(frame)) + 2
    return Table(frame, path, lines)


def _check_layout(records: list, path: Path) -> None:
    """Header names are unique and no row has fewer cells than it."""
    if not records:
        return
    header = [name.strip() for name in records[0][1]]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(
                f"column {name!r} appears twice in the header; give every "
                "column its own name.",
                path=path,
                line=records[0][0],
                field=name,
            )
        seen.add(name)
    for start, fields in records[1:]:
        if len(fields) < len(header):
            raise DataError(
                f"the row has {len(fields)} cell(s) but the header has "
                f"{len(header)}; add the missing separators (an empty "
                "cell is written as nothing between two separators).",
                path=path,
                line=start,
            )


def _records(text: str, sep: str):
    """``(first line, fields)`` of each non-blank record, header first."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    end = 0
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            if fields and (len(fields) > 1 or fields[0].strip()):
                yield start, fields
    except csv.Error:
        return


def _bad_line(text: str, sep: str, err: Exception) -> int | None:
    """File line of the first row wider than the header."""
    width = None
    for start, fields in _records(text, sep):
        if width is None:
            width = len(fields)
        elif len(fields) > width:
            return start
    found = re.search(r"line (\d+)", str(err))
    return int(found.group(1)) if found else None


def _jsonl_table(text: str, path: Path) -> Table:
    """Parse JSON Lines; absent keys become ``None``."""
    rows, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(
                f"not valid JSON ({err.msg}).", path=path, line=number
            ) from None
        if not isinstance(record, dict):
            raise DataError(
                "each line must be a JSON object.", path=path, line=number
            )
        rows.append(record)
        lines.append(number)
    if not rows:
        raise DataError(
            "the file has no records; JSON Lines needs one JSON object "
            "per line.",
            path=path,
        )
    frame = pd.DataFrame.from_records(rows).astype(object)
    frame = frame.where(frame.notna(), None)
    return Table(frame, path, np.asarray(lines, dtype=np.int64))


def id_key(value: Any) -> str:
    """An id as a comparable string (``3``, ``3.0`` and ``"3"`` agree)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def to_float(values: pd.Series) -> np.ndarray:
    """Cells as floats; blanks and non-numbers become NaN."""
    blank = values.map(lambda v: isinstance(v, str) and not v.strip())
    numbers = pd.to_numeric(values.mask(blank, None), errors="coerce")
    return numbers.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)


def original_ids(keys: Sequence[str]) -> list[Any]:
    """Ids as ints when every one is an int written plainly, else strings.

    ``"007"`` and ``"7"`` are different ids, so ids with leading zeros or
    a ``+`` sign stay strings exactly as written.
    """
    if all(INT_TEXT.fullmatch(k) and str(int(k)) == k for k in keys):
        return [int(k) for k in keys]
    return list(keys)


def number_problem(value: Any) -> str:
    """What is wrong with a cell that should hold a finite number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "is missing"
    if isinstance(value, float) and np.isnan(value):
        return "is missing (NaN)"
    number = to_float(pd.Series([value], dtype=object))[0]
    if np.isnan(number):
        return f"{value!r} is not a number"
    return f"{value!r} is not finite"


def read_numeric(path: Path, integer: bool, columns: int | None) -> np.ndarray:
    """Read a headerless comma-separated numeric file (TU format).

    Args:
        path (Path): the file (optionally ``.gz``); an empty file gives
            zero rows.
        integer (bool): every value must be a whole number.
        columns (int, optional): the number of values each line must have.

    Returns:
        np.ndarray: ``[lines, columns]``, ``int64`` if ``integer`` else
        ``float64``.

    Raises:
        DataError: a line is empty or has the wrong number of values, or
            a value is not a finite number (an integer), naming the line
            and column.
    """
    # TU files hold ASCII numbers: Latin-1 decodes any byte, so a stray one
    # is reported as a value that is not a number, on its line.
    text = decode_file(path, "latin-1").removeprefix("\xef\xbb\xbf")
    if not text.strip():
        return np.zeros((0, columns or 1), dtype=np.int64)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            sep=",",
            skipinitialspace=True,
            skip_blank_lines=False,
            keep_default_na=False,
            na_values=[""],
        )
    except pd.errors.ParserError as err:
        found = re.search(r"line (\d+)", str(err))
        raise DataError(
            f"wrong number of comma-separated values ({str(err).strip()}).",
            path=path,
            line=int(found.group(1)) if found else None,
        ) from None
    frame = _drop_trailing_blank(frame)
    if columns is not None and frame.shape[1] != columns:
        raise DataError(
            f"expected {columns} comma-separated value(s) per line, found "
            f"{frame.shape[1]}{_separator_hint(text)}.",
            path=path,
            line=1,
        )
    return _to_numbers(frame, text, path, integer)


def _separator_hint(text: str) -> str:
    """A note when the first line is separated by tabs or spaces."""
    first = text.lstrip().splitlines()[0].strip()
    if "," not in first and ("\t" in first or " " in first):
        return " (TU files separate values with commas, not tabs or spaces)"
    return ""


def _drop_trailing_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Remove all-empty rows at the end of a file."""
    filled = frame.notna().any(axis=1).to_numpy()
    last = len(filled) - int(np.argmax(filled[::-1])) if filled.any() else 0
    return frame.iloc[:last]


def _to_numbers(
    frame: pd.DataFrame, text: str, path: Path, integer: bool
) -> np.ndarray:
    """Convert every column to numbers, naming the first bad line."""
    out = []
    for col in frame.columns:
        column = frame[col]
        if pd.api.types.is_integer_dtype(column.dtype):
            out.append(column.to_numpy(dtype=np.int64))
            continue
        if not pd.api.types.is_numeric_dtype(column.dtype):
            column = pd.to_numeric(
                column.astype(str).str.strip(), errors="coerce"
            )
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if integer:
            bad |= np.isfinite(values) & (
                (values != np.round(values)) | (np.abs(values) > 2**53)
            )
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(
                _cell_problem(frame, text, row, col, integer),
                path=path,
                line=row + 1,
                field=f"column {col + 1}",
            )
        out.append(values.astype(np.int64) if integer else values)
    return np.stack(out, axis=1)


def _cell_problem(
    frame: pd.DataFrame, text: str, row: int, col: int, integer: bool
) -> str:
    """Why cell ``(row, col)`` of a TU file could not be read."""
    lines = text.splitlines()
    line = lines[row].strip() if row < len(lines) else ""
    if not line:
        return "the line is empty; remove it (one entry per line)."
    count = len(line.split(","))
    if count < frame.shape[1]:
        return (f"the line has {count} value(s) but other lines have "
                f"{frame.shape[1]}.")
    raw = _raw(frame[col].iloc[row])
    kind = "an integer" if integer else "a finite number"
    value = pd.to_numeric(raw, errors="coerce")
    if integer and np.isfinite(value) and abs(value) > 2**53:
        return f"value {raw!r} in column {col + 1} is too large."
    return f"value {raw!r} in column {col + 1} is not {kind}."


def _raw(value: object) -> str:
    """A cell as the user wrote it ('' for an empty line)."""
    return "" if pd.isna(value) else str(value).strip()
