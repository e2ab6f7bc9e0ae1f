"""Guess which column of a user's node and edge tables plays which role,
and offer the guesses as dropdown menus (notebook 07).

Names decide first (``src``, ``target``, ``node_id``, ``label``,
``abstract``, ...); when no name fits, the cells do: an id column has
unique values, a label column few distinct values, a text column long
words. No column is ever given two roles.
"""

from __future__ import annotations

from typing import Sequence

import ipywidgets as widgets
import pandas as pd

from gnnkit.data.table_io import id_key, to_float
from gnnkit.errors import DataError

NONE = "(none)"
NODE_ROLES = ("node_id", "label", "text")
EDGE_ROLES = ("source", "target")
NAMES = {
    "source": ("source", "src", "from", "u", "head", "start"),
    "target": ("target", "dst", "to", "v", "tail", "end"),
    "node_id": ("id", "node_id", "node", "nodeid", "key", "name"),
    "label": ("label", "class", "y", "target", "category", "labels"),
    "text": ("text", "title", "abstract", "description", "content",
             "body", "sentence"),
}
MIN_TEXT_CHARS = 12  # mean length for an unnamed column to count as text


def _norm(column: str) -> str:
    """``" Node-ID "`` -> ``"node_id"``."""
    return str(column).strip().lower().replace("-", "_").replace(" ", "_")


def _by_name(role: str, free: Sequence[str]) -> str | None:
    """The first free column whose name is one of the role's names."""
    for name in NAMES[role]:
        for column in free:
            if _norm(column) == name:
                return column
    return None


def _numeric(values: pd.Series) -> bool:
    """Whether every cell is a number."""
    return bool(len(values)) and not pd.isna(to_float(values)).any()


def _distinct(values: pd.Series) -> int:
    return len({id_key(v) for v in values})


def _by_cells(role: str, frame: pd.DataFrame, free: list[str]) -> str | None:
    """A free column that looks like the role from its cells."""
    if role == "node_id":
        unique = [c for c in free if _distinct(frame[c]) == len(frame)]
        return unique[0] if unique else (free[0] if free else None)
    if role == "label":
        few = [c for c in free if 2 <= _distinct(frame[c]) < len(frame)]
        words = [c for c in few if not _numeric(frame[c])]
        pool = words or few
        return min(pool, key=lambda c: _distinct(frame[c])) if pool else None
    if role == "text":
        lengths = {
            c: frame[c].map(lambda v: len(str(v or ""))).mean()
            for c in free if not _numeric(frame[c])
        }
        best = max(lengths, key=lengths.get, default=None)
        return best if best and lengths[best] >= MIN_TEXT_CHARS else None
    return free[0] if free else None  # source, target: in column order


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with text column names; a repeated name is an error."""
    frame = frame.rename(columns=str)
    repeated = frame.columns[frame.columns.duplicated()]
    if len(repeated):
        raise DataError(
            f"column {repeated[0]!r} appears twice in the table; give every"
            " column its own name.", field=repeated[0],
        )
    return frame


def guess_roles(
    frame: pd.DataFrame, roles: Sequence[str]
) -> dict[str, str | None]:
    """Guess a distinct column of ``frame`` for each role.

    Args:
        frame (pd.DataFrame): the table (e.g. ``read_table(path).frame``).
        roles (sequence of str): among ``"node_id"``, ``"label"``,
            ``"text"``, ``"source"`` and ``"target"``.

    Returns:
        dict: role -> column name, or ``None`` when no free column fits
        (only ``"text"`` and ``"label"`` may stay empty while columns are
        left).

    Example:
        >>> guess_roles(pd.DataFrame(columns=["dst", "src"]),
        ...             ["source", "target"])
        {'source': 'src', 'target': 'dst'}
    """
    frame = _named(frame)
    free = list(frame.columns)
    guesses: dict[str, str | None] = {}
    for role in roles:  # names first, so a named column is never taken
        guesses[role] = _by_name(role, free)
        if guesses[role] is not None:
            free.remove(guesses[role])
    for role in roles:
        if guesses[role] is None:
            guesses[role] = _by_cells(role, frame, free)
            if guesses[role] is not None:
                free.remove(guesses[role])
    return guesses


def guess_columns(
    nodes: pd.DataFrame, edges: pd.DataFrame
) -> dict[str, str | None]:
    """Guess the node-table and edge-table roles of
    :func:`gnnkit.data.tables.read_csv_graph`.

    Args:
        nodes (pd.DataFrame): the node table.
        edges (pd.DataFrame): the edge table.

    Returns:
        dict: ``node_id``, ``label``, ``text``, ``source`` and ``target``
        -> column name (``text`` is ``None`` when no column holds text).

    Raises:
        DataError: a repeated column name, or an edge table with fewer
            than two columns.
    """
    if len(edges.columns) < 2:
        raise DataError(
            "the edge table needs a source and a target column; it has "
            f"{[str(c) for c in edges.columns]}.",
        )
    return {**guess_roles(nodes, NODE_ROLES), **guess_roles(edges, EDGE_ROLES)}


def numeric_columns(
    frame: pd.DataFrame, columns: dict[str, str | None]
) -> list[str]:
    """The all-number columns of a node table that play no role.

    Args:
        frame (pd.DataFrame): the node table.
        columns (dict): role -> column, as from :func:`guess_columns`.

    Returns:
        list[str]: feature columns in table order (the id, label and text
        columns are never among them).

    Example:
        >>> numeric_columns(pd.DataFrame({"id": ["1"], "age": ["3.5"],
        ...                               "y": ["0"]}),
        ...                 {"node_id": "id", "label": "y"})
        ['age']
    """
    roles = set(columns.values())
    frame = _named(frame)
    return [c for c in frame.columns
            if c not in roles and _numeric(frame[c])]


def column_menus(
    nodes: pd.DataFrame, edges: pd.DataFrame
) -> dict[str, widgets.Dropdown]:
    """One dropdown per role, listing the table's columns, at the guess.

    The ``text`` menu also offers ``"(none)"`` (value ``None``): a table
    without text then uses its numeric columns as features.

    Args:
        nodes (pd.DataFrame): the node table.
        edges (pd.DataFrame): the edge table.

    Returns:
        dict: role -> ``ipywidgets.Dropdown`` whose value is a column name
        (or ``None`` for no text).
    """
    guesses = guess_columns(nodes, edges)
    menus = {}
    for role, guess in guesses.items():
        same = EDGE_ROLES if role in EDGE_ROLES else NODE_ROLES
        table = edges if role in EDGE_ROLES else nodes
        columns = [str(c) for c in table.columns]
        taken = {guesses[r] for r in same}
        options: list = columns
        if role == "text":
            options = [(NONE, None)] + [(c, c) for c in columns]
        value = guess
        if value is None and role != "text" and columns:
            unused = [c for c in columns if c not in taken]
            value = (unused or columns)[0]
        menus[role] = widgets.Dropdown(
            options=options, value=value, description=role
        )
    return menus
