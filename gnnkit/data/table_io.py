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

from gnnkit.data.features import INT_TEXT, decode_file
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
                f"{[str(c) for c in self.frame.columns]}.",
                path=self.path,
                field=name,
            )
        return self.frame[name]

    def keys(self, name: str, role: str) -> list[str]:
        """Column ``name`` as id strings (``3``, ``3.0``, ``"3"`` agree)."""
        return [id_key(v) for v in self.column(name, role)]

    def numbers(self, name: str, role: str) -> np.ndarray:
        """Column ``name`` as floats; a DataError names a bad cell."""
        raw = self.column(name, role)
        values = to_float(raw)
        if np.isnan(values).any():
            row = int(np.argmax(np.isnan(values)))
            raise DataError(
                f"{role} value {raw.iloc[row]!r} is not a number.",
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
        DataError: the type is not supported, the file is missing or not
            in ``encoding``, or a row cannot be parsed.
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
    frame.columns = [str(c).strip() for c in frame.columns]
    lines = _record_lines(text, sep)
    if len(lines) != len(frame):  # a layout pandas and csv read apart
        lines = np.arange(len(frame)) + 2
    return Table(frame, path, lines)


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


def _record_lines(text: str, sep: str) -> np.ndarray:
    """File line on which each data row (after the header) starts."""
    starts = [start for start, _ in _records(text, sep)]
    return np.asarray(starts[1:], dtype=np.int64)


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
    """Ids as ints when all are whole numbers, else as strings."""
    if all(INT_TEXT.fullmatch(k) for k in keys):
        return [int(k) for k in keys]
    return list(keys)


def read_numeric(path: Path, integer: bool, columns: int | None) -> np.ndarray:
    """Read a headerless comma-separated numeric file (TU format).

    Args:
        path (Path): the file; an empty file gives zero rows.
        integer (bool): every value must be a whole number.
        columns (int, optional): the number of values each line must have.

    Returns:
        np.ndarray: ``[lines, columns]``, ``int64`` if ``integer`` else
        ``float64``.

    Raises:
        DataError: a line has the wrong number of values, or a value is
            not a number (an integer), naming the line and column.
    """
    try:
        frame = pd.read_csv(
            path,
            header=None,
            sep=",",
            skipinitialspace=True,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        return np.zeros((0, columns or 1), dtype=np.int64)
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
            f"{frame.shape[1]}.",
            path=path,
            line=1,
        )
    return _to_numbers(frame, path, integer)


def _drop_trailing_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Remove all-empty rows at the end of a file."""
    filled = frame.notna().any(axis=1).to_numpy()
    last = len(filled) - int(np.argmax(filled[::-1])) if filled.any() else 0
    return frame.iloc[:last]


def _to_numbers(frame: pd.DataFrame, path: Path, integer: bool) -> np.ndarray:
    """Convert every column to numbers, naming the first bad line."""
    out = []
    for col in frame.columns:
        column = frame[col]
        if pd.api.types.is_integer_dtype(column.dtype):
            out.append(column.to_numpy(dtype=np.int64))
            continue
        if not pd.api.types.is_numeric_dtype(column.dtype):
            column = pd.to_numeric(column.str.strip(), errors="coerce")
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(values)
        if integer:
            bad |= ~np.isnan(values) & (values != np.round(values))
        if bad.any():
            row = int(np.argmax(bad))
            kind = "an integer" if integer else "a number"
            raise DataError(
                f"value {_raw(frame[col].iloc[row])!r} in column "
                f"{col + 1} is not {kind}.",
                path=path,
                line=row + 1,
                field=f"column {col + 1}",
            )
        out.append(values.astype(np.int64) if integer else values)
    return np.stack(out, axis=1)


def _raw(value: object) -> str:
    """A cell as the user wrote it ('' for an empty line)."""
    return "" if pd.isna(value) else str(value).strip()
