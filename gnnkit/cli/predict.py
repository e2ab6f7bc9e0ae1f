"""``gnnkit predict``: load a saved model in a fresh process and predict on
graphs (or nodes) read from a file, written as a CSV by original ids."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path
from typing import Any

import torch

from gnnkit._io import atomic_write_text
from gnnkit.cli.checks import check_output_file
from gnnkit.cli.predict_text import text_logits, text_mode
from gnnkit.cli.run import COLUMN_OPTIONS, add_table_options, table_options
from gnnkit.data.align import align_edge_features, align_features
from gnnkit.data.dataset import GraphDataset
from gnnkit.data.random_walk import add_random_walk_features_like
from gnnkit.data.shipped import TABLE_SUFFIXES, find_shipped, load_dataset
from gnnkit.data.smiles_csv import read_smiles_csv
from gnnkit.errors import GnnkitError
from gnnkit.models.persist import load_model
from gnnkit.train.predict import predict


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``predict`` and its options."""
    parser = subparsers.add_parser(
        "predict", help="predict with a saved model on new data",
        description="Read graphs from --input the same way as `gnnkit run` "
        "read the training data (the column options recorded with the "
        "model are the defaults), line their features up with the "
        "model's, scale them with the training statistics, and write one "
        "row per graph (or node) with the predicted label.",
    )  # fmt: skip
    parser.add_argument("--model", required=True, help="saved model folder")
    parser.add_argument("--input", required=True,
                        help="TU folder, edge table or .json graphs")
    parser.add_argument("--out", default="runs/predictions.csv",
                        help="CSV to write (default: runs/predictions.csv)")
    add_table_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Predict and write the CSV."""
    out = Path(args.out)
    check_output_file(out)
    if out.suffix.lower() != ".csv":
        raise GnnkitError(
            f"--out {out}: predictions are written as CSV; give a file "
            "name ending in .csv."
        )
    model, info = load_model(args.model)
    extra = info.get("extra") or {}
    dataset = read_inputs(args, extra)
    if text_mode(info):
        logits = text_logits(model, info, dataset)
    else:
        align_edges(model, extra, dataset)
        logits = predict(model, dataset.graphs if dataset.level == "graph"
                         else dataset.graphs[0])  # fmt: skip
    rows = prediction_rows(dataset, logits, info)
    atomic_write_text(args.out, to_csv(rows))
    print(f"{len(rows)} predictions written to {args.out}")
    return 0


def read_inputs(args: argparse.Namespace, extra: dict) -> GraphDataset:
    """Read the input with the reader settings the model was trained on:
    the recorded column options (the command line wins), no labels, and
    features put on the training scale."""
    options = table_options(args)
    path = Path(args.input)
    if is_table(path):
        recorded = extra.get("data") or {}
        for key in COLUMN_OPTIONS:
            if key in recorded and key != "label":
                options.setdefault(key, recorded[key])
        options.setdefault("label", None)  # new rows need no labels
    return load_input(args.input, options, extra)


def load_input(name: str, options: dict[str, Any],
               extra: dict) -> GraphDataset:
    """Read ``name`` with ``options`` as a saved model's training data was
    read, and give it that data's features.

    A table is not rescaled (the training statistics apply) and a TU
    folder gets the recorded ``max_degree``; a table of new molecules for
    a model trained on SMILES is read with that model's SMILES reader.
    The model's random-walk columns are added, and the features put in
    its column order and on its training scale.
    """
    path = Path(name)
    options = dict(options)
    if is_table(path):
        options["scale"] = False
    if extra.get("max_degree") is not None and path.is_dir():
        options["max_degree"] = extra["max_degree"]
    molecules = smiles_options(extra)
    if molecules is not None and is_table(path):
        dataset = read_smiles_csv(name, **molecules,
                                  encoding=options.get("encoding", "utf-8"))
    else:
        dataset = load_dataset(name, **options)
    add_random_walk_features_like(dataset, extra.get("feature_names"))
    if extra.get("feature_names"):
        align_features(dataset, extra["feature_names"],
                       extra.get("feature_scaling"))
    return dataset


def smiles_options(extra: dict) -> dict[str, Any] | None:
    """For a model trained on a shipped SMILES dataset, the options its
    reader used (the SMILES column, fragment handling), without the
    target and id columns new molecules need not have."""
    name = (extra.get("data") or {}).get("dataset") or ""
    entry = find_shipped(str(name))
    if entry is None or entry.reader != "smiles":
        return None
    options = {k: v for k, v in entry.kwargs.items()
               if k not in ("target", "id_column", "task")}
    return {**options, "target": None}


def align_edges(model: torch.nn.Module, extra: dict,
                dataset: GraphDataset) -> None:
    """Line up the edge features of ``dataset`` with those of a model
    built with ``edge_dim`` (by the recorded ``edge_feature_names``)."""
    width = edge_width(model)
    if width:
        align_edge_features(dataset, extra.get("edge_feature_names"), width)


def edge_width(model: torch.nn.Module) -> int | None:
    """The ``edge_attr`` width a model (or an ensemble member) reads."""
    return next((m.edge_dim for m in model.modules()
                 if getattr(m, "edge_dim", None)), None)


def is_table(path: Path) -> bool:
    """Whether ``path`` is a table file (.csv/.tsv/.jsonl, maybe .gz)."""
    name = path.name.lower().removesuffix(".gz")
    return path.is_file() and name.endswith(TABLE_SUFFIXES)


def prediction_rows(
    dataset: GraphDataset, logits: torch.Tensor, info: dict
) -> list[dict[str, Any]]:
    """One row per graph (or node): id, prediction and probabilities."""
    ids = dataset.graph_ids if dataset.level == "graph" \
        else dataset.node_ids[0]
    classes = info.get("classes")
    if classes is None:
        return _regression_rows(ids, logits, info.get("extra") or {})
    probs = logits.softmax(-1)
    rows = []
    for key, p in zip(ids, probs.tolist()):
        row = {"id": key, "prediction": classes[int(torch.tensor(p).argmax())]}
        row.update({f"p({c})": round(v, 6) for c, v in zip(classes, p)})
        rows.append(row)
    return rows


def _regression_rows(ids, logits, extra) -> list[dict[str, Any]]:
    values = to_target_units(logits.view(-1), extra)
    return [{"id": k, "prediction": float(v)} for k, v in zip(ids, values)]


def to_target_units(values: torch.Tensor, extra: dict) -> torch.Tensor:
    """Regression outputs in the target's units: the target scaling
    recorded with the model (if any) undone."""
    scaler = extra.get("target_scaler")
    if not scaler:
        return values
    mean = torch.tensor(scaler["mean"]).view(-1)
    std = torch.tensor(scaler["std"]).view(-1)
    return values * std + mean


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text with a header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
