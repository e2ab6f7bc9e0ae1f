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
from gnnkit.cli.run import COLUMN_OPTIONS, add_table_options, table_options
from gnnkit.data.align import align_features
from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import TABLE_SUFFIXES, load_dataset
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
    check_output_file(Path(args.out))
    model, info = load_model(args.model)
    dataset = read_inputs(args, info["extra"])
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
        options["scale"] = False  # the training statistics apply
    if extra.get("max_degree") is not None and path.is_dir():
        options["max_degree"] = extra["max_degree"]
    dataset = load_dataset(args.input, **options)
    if extra.get("feature_names"):
        align_features(dataset, extra["feature_names"],
                       extra.get("feature_scaling"))
    return dataset


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
        return _regression_rows(ids, logits, info["extra"])
    probs = logits.softmax(-1)
    rows = []
    for key, p in zip(ids, probs.tolist()):
        row = {"id": key, "prediction": classes[int(torch.tensor(p).argmax())]}
        row.update({f"p({c})": round(v, 6) for c, v in zip(classes, p)})
        rows.append(row)
    return rows


def _regression_rows(ids, logits, extra) -> list[dict[str, Any]]:
    values = logits.view(-1)
    scaler = extra.get("target_scaler")
    if scaler:
        mean = torch.tensor(scaler["mean"])
        std = torch.tensor(scaler["std"])
        values = values * std.view(-1) + mean.view(-1)
    return [{"id": k, "prediction": float(v)} for k, v in zip(ids, values)]


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text with a header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
