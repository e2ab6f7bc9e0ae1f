"""CSV files of SMILES (MoleculeNet style) as graph datasets.

Every unreadable row is reported with its line, id and RDKit's reason;
``on_error="skip"`` keeps the readable ones and says how many were left.
"""

from __future__ import annotations

import csv
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import torch

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.decoding import check_encoding
from gnnkit.data.features import encode_labels
from gnnkit.data.molecules import (
    ATOM_FEATURE_NAMES,
    BOND_FEATURE_NAMES,
    fragment_graph,
    parse_smiles,
)
from gnnkit.errors import DataError

logger = logging.getLogger(__name__)

OnError = Literal["raise", "skip"]
TASKS = ("classification", "regression")


def _number(text: str) -> int | float | str:
    """``text`` as an int or float when it looks like one."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _target_value(raw: str | None, task: str) -> tuple[Any, str | None]:
    """Parse one target cell: ``(value, None)`` or ``(None, reason)``."""
    text = (raw or "").strip()
    if not text:
        return None, "the target cell is empty"
    value = _number(text)
    if task == "regression":
        if isinstance(value, str) or value != value:
            return None, f"the target is not a number (got {text!r})"
        return float(value), None
    return value, None


def _open_rows(path: Path, encoding: str) -> tuple[list[str], list]:
    """Header and ``(line, row)`` pairs of a CSV file (1-based lines)."""
    check_encoding(encoding)
    try:
        with open(path, newline="", encoding=encoding) as handle:
            reader = csv.reader(handle)
            header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
            rows, last = [], reader.line_num
            for row in reader:
                if row:
                    rows.append((last + 1, row))
                last = reader.line_num
    except FileNotFoundError:
        raise DataError("file not found; check the path.", path=path)
    except IsADirectoryError:
        raise DataError("is a folder; give the CSV file.", path=path)
    except UnicodeDecodeError as err:
        raise DataError(
            f"not valid {encoding} (byte 0x{err.object[err.start]:02X} at "
            f"offset {err.start}); pass encoding='latin-1' or the file's "
            "real encoding.",
            path=path,
        ) from None
    if not rows:
        raise DataError(
            "no data rows under the header; a SMILES CSV "
            "needs a header line and one row per molecule.",
            path=path,
        )
    return header, rows


def _column(header: list[str], name: str, path: Path, what: str) -> int:
    """Index of column ``name`` or a DataError listing the columns."""
    if name not in header:
        raise DataError(
            f"no {what} column {name!r}; the columns are {header}. Pass "
            f"the right name as {what}=...",
            path=path,
            field=name,
        )
    return header.index(name)


def _read_rows(path, header, rows, names, task, keep):
    """Parse every row; return the kept records and the bad ones."""
    smiles, target, id_column = names
    cols = [
        _column(header, smiles, path, "smiles"),
        None if target is None else _column(header, target, path, "target"),
    ]
    if id_column is not None:
        cols.append(_column(header, id_column, path, "id_column"))
    kept, bad = [], []
    for index, (line, row) in enumerate(rows):
        cells = [row[c] if c is not None and c < len(row) else ""
                 for c in cols]
        row_id = cells[2].strip() if id_column is not None else index
        mol, reason = parse_smiles(cells[0])
        value, target_reason = (None, None) if target is None \
            else _target_value(cells[1], task)
        if mol is None or target_reason is not None:
            field = smiles if mol is None else target
            reason = reason or target_reason
            bad.append(dict(id=row_id, line=line, field=field,
                            smiles=cells[0], reason=reason))  # fmt: skip
            continue
        graph, text, parts = fragment_graph(mol, keep)
        text = text or cells[0].strip()
        kept.append((row_id, line, text, graph, value, parts))
    return kept, bad


def _describe(bad: list[dict], limit: int | None = None) -> str:
    """One line per bad row: ``line 3 (id m2), field 'smiles': reason``."""
    shown = bad if limit is None else bad[:limit]
    text = "\n".join(
        f"  line {b['line']} (id {b['id']}), field '{b['field']}': "
        f"{b['reason']}"
        for b in shown
    )
    more = len(bad) - len(shown)
    return text + (f"\n  ... and {more} more" if more else "")


def _report_bad(bad: list[dict], total: int, path: Path, on_error: str):
    """Raise (strict) or warn (skip) about rows that could not be read."""
    if not bad:
        return
    if on_error == "raise" or len(bad) == total:
        what = "every row" if len(bad) == total else f"{len(bad)} rows"
        raise DataError(
            f"{what} of {total} cannot be read:\n{_describe(bad)}\nFix "
            "these rows, or pass on_error='skip' to drop them (the labels "
            "of the other rows stay aligned).",
            path=path,
            line=bad[0]["line"] if len(bad) == 1 else None,
        )
    warnings.warn(
        f"{path}: skipped {len(bad)} of {total} rows that cannot be read "
        f"(ids {[b['id'] for b in bad]}):\n{_describe(bad, 10)}",
        stacklevel=3,
    )


def _attach_targets(kept: list, task: str) -> list[Any] | None:
    """Set ``y`` on every kept graph; return the classes (or ``None``)."""
    values = [record[4] for record in kept]
    if task == "regression":
        for record, value in zip(kept, values):
            record[3].y = torch.tensor([value], dtype=torch.float)
        return None
    y, classes = encode_labels(values)
    for record, label in zip(kept, y.tolist()):
        record[3].y = torch.tensor([label], dtype=torch.long)
    return classes


def read_smiles_csv(
    path: str | os.PathLike,
    *,
    smiles: str = "smiles",
    target: str | None,
    task: Literal["classification", "regression"] = "classification",
    id_column: str | None = None,
    on_error: OnError = "raise",
    keep_largest_fragment: bool = False,
    name: str | None = None,
    encoding: str = "utf-8",
) -> GraphDataset:
    """Read a CSV of SMILES and targets into a graph-level dataset.

    Every row becomes one molecular graph (heavy atoms as nodes, bonds as
    two directed edges, see :func:`mol_to_graph`). Whitespace around a
    SMILES is stripped; salts and mixtures keep all their fragments
    unless ``keep_largest_fragment`` is set.

    Args:
        path (str or PathLike): the CSV file (header row required).
        smiles (str, optional): the SMILES column (default: ``"smiles"``).
        target (str or None): the label or value column; ``None`` reads
            the molecules without targets (e.g. to predict on them).
        task (str, optional): ``"classification"`` (labels re-indexed to
            ``0..C-1``, originals in ``classes``) or ``"regression"``
            (float targets) (default: ``"classification"``).
        id_column (str, optional): column of molecule ids (default: the
            0-based row number).
        on_error (str, optional): ``"raise"`` lists every unreadable row
            in one :class:`DataError`; ``"skip"`` drops them with a
            warning naming them, keeps the other labels aligned and
            records them in ``meta["skipped"]`` (default: ``"raise"``).
        keep_largest_fragment (bool, optional): keep only the largest
            fragment of each molecule; its SMILES becomes the graph text
            (default: ``False``).
        name (str, optional): dataset name (default: the file stem).
        encoding (str, optional): text encoding of the file
            (default: ``"utf-8"``).

    Returns:
        GraphDataset: graph level, with ``graph_ids`` from ``id_column``,
        ``graph_texts`` = the SMILES, ``edge_attr`` on every graph and
        ``meta`` holding ``skipped``, ``lines`` and ``num_fragments``.

    Raises:
        DataError: the file or a column is missing, or (with
            ``on_error="raise"``) rows have an empty or invalid SMILES or
            target; the message names each row's line, id and RDKit's
            reason.
    """
    for arg, value, allowed in (
        ("task", task, TASKS),
        ("on_error", on_error, ("raise", "skip")),
    ):
        if value not in allowed:
            raise DataError(f"{arg} must be one of {allowed} "
                            f"(got {value!r}).")  # fmt: skip
    path = Path(path)
    header, rows = _open_rows(path, encoding)
    kept, bad = _read_rows(path, header, rows, (smiles, target, id_column),
                           task, keep_largest_fragment)  # fmt: skip
    _report_bad(bad, len(rows), path, on_error)
    classes = None if target is None else _attach_targets(kept, task)
    multi = sum(record[5] > 1 for record in kept)
    if multi:
        logger.info("%s: %d molecules have several fragments", path, multi)
    return GraphDataset(
        graphs=[record[3] for record in kept],
        level="graph",
        name=name or path.stem,
        classes=classes,
        graph_ids=[record[0] for record in kept],
        graph_texts=[record[2] for record in kept],
        feature_names=list(ATOM_FEATURE_NAMES),
        meta=dict(path=str(path), smiles_column=smiles, target=target,
                  lines=[record[1] for record in kept],
                  num_fragments=[record[5] for record in kept],
                  skipped=bad, edge_feature_names=list(BOND_FEATURE_NAMES)),
    )  # fmt: skip
