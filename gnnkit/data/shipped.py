"""The datasets shipped in the repository's ``data/`` folder.

:func:`load_dataset` opens one of them by name, or any supported path.
"""

from __future__ import annotations

import inspect
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import gnnkit
from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl")


@dataclass(frozen=True)
class ShippedDataset:
    """How to read one shipped dataset.

    Args:
        reader (str): ``"tu"``, ``"table"``, ``"webkb"`` or ``"smiles"``.
        folder (str): folder under :func:`data_dir`.
        files (tuple[str, ...]): file names inside ``folder`` passed as
            positional arguments (empty for a TU folder).
        kwargs (dict): keyword arguments of the reader.
        description (str): one line for listings.
    """

    reader: str
    folder: str
    files: tuple[str, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""


def _tag(source: str, target: str) -> dict[str, Any]:
    """Keyword arguments of a shipped text-attributed graph."""
    return dict(
        source=source,
        target=target,
        node_id="node_id",
        label="label",
        text="text",
        features=None,
    )


SHIPPED: dict[str, ShippedDataset] = {
    "MUTAG": ShippedDataset(
        "tu", "MUTAG", description="188 nitro compounds, mutagenic or not"
    ),
    "PROTEINS": ShippedDataset(
        "tu", "PROTEINS", description="1113 proteins, enzyme or not"
    ),
    "IMDB-BINARY": ShippedDataset(
        "tu", "IMDB-BINARY", description="1000 ego-networks, 2 genres"
    ),
    "IMDB-MULTI": ShippedDataset(
        "tu", "IMDB-MULTI", description="1500 ego-networks, 3 genres"
    ),
    "Cora_TAG": ShippedDataset(
        "table",
        "Cora_TAG",
        ("edges.csv", "nodes.jsonl.gz"),
        _tag("src", "dst"),
        "2708 papers with title and abstract, 7 topics",
    ),
    "CiteSeer_TAG": ShippedDataset(
        "table",
        "CiteSeer_TAG",
        ("edges.csv", "nodes.jsonl.gz"),
        _tag("citing", "cited"),
        "3186 papers with title and abstract, 6 topics",
    ),
    **{
        f"WebKB_{university}": ShippedDataset(
            "webkb",
            "WebKB_TAG",
            (f"{university}.csv.gz",),
            description=f"{university} web pages with their text, 5 kinds "
            "(heterophilic)",
        )
        for university in ("Cornell", "Texas", "Washington", "Wisconsin")
    },
    "BBBP": ShippedDataset(
        "smiles",
        "BBBP",
        ("BBBP.csv",),
        dict(
            smiles="smiles",
            target="p_np",
            task="classification",
            id_column="name",
        ),
        "2039 molecules, blood-brain barrier penetration",
    ),
    "ESOL": ShippedDataset(
        "smiles",
        "ESOL",
        ("delaney-processed.csv",),
        dict(
            smiles="smiles",
            target="measured log solubility in mols per litre",
            task="regression",
            id_column="Compound ID",
        ),
        "1128 molecules, aqueous solubility (log mol/L)",
    ),
    "FreeSolv": ShippedDataset(
        "smiles",
        "FreeSolv",
        ("SAMPL.csv",),
        dict(
            smiles="smiles",
            target="expt",
            task="regression",
            id_column="iupac",
        ),
        "642 molecules, hydration free energy (kcal/mol)",
    ),
    "BACE": ShippedDataset(
        "smiles",
        "BACE",
        ("bace.csv",),
        dict(
            smiles="mol",
            target="Class",
            task="classification",
            id_column="CID",
        ),
        "1513 molecules, BACE-1 inhibitor or not",
    ),
}


def data_dir() -> Path:
    """The folder holding the shipped datasets.

    ``$GNNKIT_DATA`` wins when set; otherwise the ``data/`` folder at the
    top of the repository gnnkit was installed from.

    Raises:
        DataError: neither exists.
    """
    env = os.environ.get("GNNKIT_DATA")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise DataError(
                "GNNKIT_DATA points to a folder that does not exist; set it "
                "to the folder holding MUTAG/, Cora_TAG/, ...",
                path=path,
            )
        return path
    path = Path(gnnkit.__file__).resolve().parents[1] / "data"
    if path.is_dir():
        return path
    raise DataError(
        f"cannot find the shipped datasets (looked in {path}); set the "
        "environment variable GNNKIT_DATA to the folder holding MUTAG/, "
        "Cora_TAG/, ... (the data/ folder of the gnnkit repository)."
    )


def list_datasets() -> list[str]:
    """Names of the shipped datasets, in registry order."""
    return list(SHIPPED)


def load_dataset(
    name_or_path: str | os.PathLike, **kwargs: Any
) -> GraphDataset:
    """Load a shipped dataset by name, or read a dataset from a path.

    A name (case-insensitive) from :data:`SHIPPED` is read from
    :func:`data_dir`; ``kwargs`` override the registered reader arguments.
    A path is read by its kind: a folder of TU files with
    :func:`~gnnkit.data.tu.read_tu`; a ``.csv``/``.tsv``/``.jsonl`` file
    (optionally ``.gz``) with :func:`~gnnkit.data.tables.read_csv_graph`
    as the edge table (pass ``nodes=`` etc. in ``kwargs``); a ``.json``
    file with :func:`~gnnkit.data.json_graphs.read_json_graphs`.

    Args:
        name_or_path (str or PathLike): a shipped name such as ``"MUTAG"``
            or a path.
        **kwargs: passed on to the reader.

    Returns:
        GraphDataset: the dataset.

    Example:
        >>> load_dataset("MUTAG")
        GraphDataset(name='MUTAG', level='graph', graphs=188, ...)
    """
    entry = find_shipped(str(name_or_path))
    path = Path(name_or_path).expanduser()
    if entry is not None:
        if path.exists() and path.resolve() != _shipped_path(entry):
            warnings.warn(
                f"'{name_or_path}' is both a shipped dataset and a "
                f"{'folder' if path.is_dir() else 'file'} here; reading the "
                f"shipped one (pass ./{path} to read {path.resolve()}).",
                stacklevel=2,
            )
        return _load_shipped(entry, kwargs)
    if path.is_dir():
        from gnnkit.data.tu import read_tu

        return _read(read_tu, "a TU folder", path, **kwargs)
    if path.is_file():
        return _load_file(path, kwargs)
    raise DataError(
        f"{str(name_or_path)!r} is neither a shipped dataset nor an existing "
        f"path; shipped datasets: {', '.join(SHIPPED)}."
    )


def shipped_folder(name: str) -> Path | None:
    """The folder ``name`` under :func:`data_dir`, or ``None`` when there
    is no such folder (or no data folder at all)."""
    try:
        folder = data_dir() / name
    except DataError:  # no data folder: only local paths can be read
        return None
    return folder if folder.is_dir() else None


def _shipped_path(entry: ShippedDataset) -> Path | None:
    """Where ``entry`` lives, or None without a data folder."""
    try:
        return (data_dir() / entry.folder).resolve()
    except DataError:
        return None


def find_shipped(name: str) -> ShippedDataset | None:
    """The :data:`SHIPPED` entry for ``name``, ignoring case, or ``None``."""
    for key, entry in SHIPPED.items():
        if key.lower() == name.lower():
            return entry
    return None


def _load_shipped(entry: ShippedDataset, kwargs: dict) -> GraphDataset:
    """Read a registry entry from :func:`data_dir`."""
    folder = data_dir() / entry.folder
    if not folder.is_dir():
        raise DataError(
            "shipped dataset folder is missing; check GNNKIT_DATA or the "
            "repository's data/ folder.",
            path=folder,
        )
    paths = [folder / f for f in entry.files]
    options = {**entry.kwargs, **kwargs}
    if entry.reader == "tu":
        from gnnkit.data.tu import read_tu

        return _read(read_tu, "a TU folder", folder, **options)
    if entry.reader == "table":
        from gnnkit.data.tables import read_csv_graph

        options.setdefault("name", entry.folder)
        return _read(read_csv_graph, "tables", *paths, **options)
    if entry.reader == "webkb":
        from gnnkit.data.webkb import read_webkb

        return _read(read_webkb, "a WebKB table", *paths, **options)
    from gnnkit.data.smiles_csv import read_smiles_csv

    dataset = _read(read_smiles_csv, "a SMILES table", *paths, **options)
    dataset.name = entry.folder
    return dataset


def _load_file(path: Path, kwargs: dict) -> GraphDataset:
    """Read a single file by its suffix."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(TABLE_SUFFIXES):
        from gnnkit.data.tables import read_csv_graph

        return _read(read_csv_graph, "tables", path, **kwargs)
    if name.endswith(".json"):
        from gnnkit.data.json_graphs import read_json_graphs

        return _read(read_json_graphs, "a JSON graph file", path, **kwargs)
    raise DataError(
        "cannot tell how to read this file; gnnkit reads a TU folder, "
        ".csv/.tsv/.jsonl tables (optionally .gz) and .json graph files.",
        path=path,
    )


def _read(reader: Callable, what: str, *args: Any, **options: Any):
    """Call ``reader``, refusing options it does not take by name."""
    accepted = inspect.signature(reader).parameters
    unknown = [key for key in options if key not in accepted]
    if any(p.kind == p.VAR_KEYWORD for p in accepted.values()):
        unknown = []
    if unknown:
        takes = [k for k, p in accepted.items() if p.kind == p.KEYWORD_ONLY]
        raise DataError(
            f"option(s) {', '.join(unknown)} do not apply to {what}; it "
            f"takes {', '.join(takes)}. Table options such as nodes=... and "
            "graph_id=... are for CSV/TSV/JSONL edge tables."
        )
    return reader(*args, **options)
