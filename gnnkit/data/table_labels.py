"""Labels of node and graph tables: missing-label markers, class ids and
``label_names.json``."""

from __future__ import annotations

import json
from typing import Any

import torch

from gnnkit.data.features import encode_labels, typed_labels
from gnnkit.data.table_io import Table, id_key

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
    return torch.from_numpy(y), classes


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
    names = json.loads(path.read_text(encoding="utf-8"))
    return {"label_names": [str(names.get(str(c), c)) for c in classes]}
