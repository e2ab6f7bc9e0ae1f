"""Labels of node and graph tables: missing-label markers, class ids and
``label_names.json``."""

from __future__ import annotations

import json
import warnings
from typing import Any

import torch

from gnnkit.data.decoding import decode_file
from gnnkit.data.features import encode_labels, typed_labels
from gnnkit.data.table_io import Table, id_key
from gnnkit.errors import DataError

MISSING_WORDS = {"nan", "na", "n/a", "null", "none"}


def read_targets(table: Table, column: str, task: str):
    """Labels of a node or graph table as ``(y, classes)``."""
    if column not in table.frame.columns:
        table.fail(
            f"no label column {column!r}; the columns are "
            f"{[str(c) for c in table.frame.columns]}. Name the label column"
            " with label=..., or pass label=None to read unlabelled data "
            "(e.g. to predict).", None, column,
        )
    if task == "regression":
        values = table.numbers(column, "label")
        return torch.as_tensor(values, dtype=torch.float32), None
    values = table.column(column, "label").tolist()
    row = _missing_label(values)
    if row is not None:
        shown = "" if id_key(values[row]) == "" else f" ({values[row]!r})"
        table.fail(f"label is missing{shown}; every row needs a label (or "
                   "pass label=None).", row, column)
    y, classes = encode_labels(typed_labels(values))
    _warn_equal_numbers(classes, table, column)
    return torch.from_numpy(y), classes


def _warn_equal_numbers(classes: list, table: Table, column: str) -> None:
    """Warn once when labels written differently are the same number
    (``"1"`` and ``"1.0"``): they are compared as written, so they are
    different classes."""
    same: dict[float, list[str]] = {}
    for label in classes:
        if isinstance(label, str) and _is_number(label):
            same.setdefault(float(label), []).append(label)
    clash = next((group for group in same.values() if len(group) > 1), None)
    if clash:
        warnings.warn(
            f"{table.path.name}: label column {column!r} holds "
            f"{' and '.join(map(repr, clash))}, the same number written "
            f"differently; they are read as {len(clash)} different classes"
            " (labels are compared as written). Write them the same way to "
            "make them one class.",
            stacklevel=5,
        )


def _missing_label(values: list) -> int | None:
    """Row of the first missing label, or ``None``.

    Blank cells, JSON ``null`` and NaN are missing, and so is the word
    ``nan``. ``NA``, ``N/A``, ``null`` and ``None`` count as missing only
    among numeric labels; with word labels they may be class names.
    """
    keys = [id_key(v) for v in values]
    words = [k.lower() for k in keys]
    numeric = all(_is_number(k) for k, w in zip(keys, words)
                  if w not in MISSING_WORDS and k)
    for row, (key, word) in enumerate(zip(keys, words)):
        if not key or word == "nan" or (numeric and word in MISSING_WORDS):
            return row
    return None


def _is_number(text: str) -> bool:
    """True when ``text`` reads as a number."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def label_names(table: Table, classes: list | None) -> dict[str, Any]:
    """``{"label_names": [...]}`` from ``label_names.json``, if present."""
    path = table.path.parent / "label_names.json"
    if classes is None or not path.is_file():
        return {}
    shape = ('a JSON object mapping each class to its name, e.g. {"0": '
             '"cat", "1": "dog"}')
    try:
        names = json.loads(decode_file(path))
    except json.JSONDecodeError as err:
        raise DataError(f"not valid JSON ({err.msg}, column {err.colno}); "
                        f"label_names.json holds {shape}.", path=path,
                        line=err.lineno) from None
    if not isinstance(names, dict):
        raise DataError(f"expected {shape} (got a JSON "
                        f"{type(names).__name__}).", path=path)
    return {"label_names": [str(names.get(str(c), c)) for c in classes]}
