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
from gnnkit.data.align import align_features
from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import load_dataset
from gnnkit.models.persist import load_model
from gnnkit.train.predict import predict


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``predict`` and its options."""
    parser = subparsers.add_parser(
        "predict", help="predict with a saved model on new data",
        description="Read graphs from --input the same way as `gnnkit run` "
        "reads --dataset, line their features up with the model's, and "
        "write one row per graph (or node) with the predicted label.",
    )  # fmt: skip
    parser.add_argument("--model", required=True, help="saved model folder")
    parser.add_argument("--input", required=True,
                        help="TU folder, table or .json graphs")
    parser.add_argument("--nodes", help="node table for an edge table")
    parser.add_argument("--graph-id", help="graph id column")
    parser.add_argument("--out", default="predictions.csv",
                        help="CSV to write (default: predictions.csv)")
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
    """Read the input with the reader settings the model was trained on."""
    options: dict[str, Any] = {}
    if args.nodes:
        options["nodes"] = args.nodes
    if args.graph_id:
        options["graph_id"] = args.graph_id
    if Path(args.input).is_file():
        options["label"] = None  # new rows need no labels
    if extra.get("max_degree") is not None and Path(args.input).is_dir():
        options["max_degree"] = extra["max_degree"]
    dataset = load_dataset(args.input, **options)
    if extra.get("feature_names"):
        align_features(dataset, extra["feature_names"])
    return dataset


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
