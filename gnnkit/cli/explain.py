"""``gnnkit explain``: why did a saved model predict this? Explain one graph
(``--graph N``) or node (``--node ID``) and write an HTML page and a JSON of
the masks keyed by original ids."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gnnkit._io import atomic_write_json
from gnnkit.data.align import align_features
from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import load_dataset
from gnnkit.errors import DataError
from gnnkit.explain.attributions import explain_graph, explain_node
from gnnkit.explain.results import Attribution
from gnnkit.explain.wrappers import DEFAULT_METHOD, METHODS
from gnnkit.models.persist import load_model
from gnnkit.viz.explain_figures import explanation_page, explanation_section

__all__ = ["add_parser", "run", "explain_saved", "explanation_section"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``explain`` and its options."""
    parser = subparsers.add_parser(
        "explain", help="explain one prediction of a saved model",
        description="Load a model saved by `gnnkit run` and the dataset "
        "recorded with it, explain one graph or node, and write "
        "explanation.html and explanation.json (masks keyed by original "
        "node ids and edge rows).",
    )  # fmt: skip
    parser.add_argument("--model", required=True, help="saved model folder")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--graph", type=int,
                       help="graph to explain (0-based position)")
    which.add_argument("--node", help="node to explain (original id)")
    parser.add_argument("--method", default=DEFAULT_METHOD,
                        choices=METHODS,
                        help=f"explanation method (default: {DEFAULT_METHOD})")
    parser.add_argument("--dataset",
                        help="dataset to read (default: the one recorded "
                        "with the model)")
    parser.add_argument("--nodes", help="node table for an edge table")
    parser.add_argument("--out", default="explanation",
                        help="output folder (default: explanation)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Explain and write the page and the JSON."""
    result = explain_saved(args.model, graph=args.graph, node=args.node,
                           method=args.method, dataset=args.dataset,
                           nodes=args.nodes)
    out = Path(args.out)
    atomic_write_json(out / "explanation.json", result.to_dict())
    what = "graph" if result.level == "graph" else "node"
    page = explanation_page([result], f"Why this prediction? {what} "
                            f"{result.item}")
    page.write(out / "explanation.html")
    print(f"{what} {result.item}: target {result.target}, fidelity+ "
          f"{result.fidelity_plus}, fidelity- {result.fidelity_minus}")
    print(f"page:  {out / 'explanation.html'}")
    print(f"masks: {out / 'explanation.json'}")
    return 0


def explain_saved(
    model_dir: str | Path,
    *,
    graph: int | None = None,
    node: Any = None,
    method: str = DEFAULT_METHOD,
    dataset: str | None = None,
    nodes: str | None = None,
) -> Attribution:
    """Explain a graph or node with a model saved by ``gnnkit run``.

    Args:
        model_dir (str or Path): the saved model folder.
        graph (int, optional): graph position to explain.
        node (Any, optional): original id of the node to explain.
        method (str, optional): the method.
        dataset (str, optional): dataset to read instead of the recorded
            one.
        nodes (str, optional): node table for an edge-table dataset.

    Returns:
        Attribution: the explanation.
    """
    model, info = load_model(model_dir)
    extra = info.get("extra") or {}
    data = _read_dataset(dataset or extra.get("dataset"), nodes, extra)
    task = extra.get("task") or data.task
    if (graph is None) == (node is None):
        raise DataError("give exactly one of graph=... or node=....")
    if graph is not None:
        _check_level(data, "graph", "--graph")
        return explain_graph(model, data, graph, method=method, task=task)
    _check_level(data, "node", "--node")
    return explain_node(model, data, node, method=method, task=task)


def _read_dataset(name: str | None, nodes: str | None,
                  extra: dict) -> GraphDataset:
    if not name:
        raise DataError(
            "the saved model records no dataset; pass --dataset with the "
            "data it was trained on."
        )
    options = {"nodes": nodes} if nodes else {}
    if extra.get("max_degree") is not None and Path(name).is_dir():
        options["max_degree"] = extra["max_degree"]
    data = load_dataset(name, **options)
    if extra.get("feature_names"):
        align_features(data, extra["feature_names"])
    return data


def _check_level(data: GraphDataset, level: str, flag: str) -> None:
    if data.level != level:
        other = "--node" if level == "graph" else "--graph"
        raise DataError(
            f"dataset '{data.name}' is {data.level}-level, so {flag} does "
            f"not apply; use {other}."
        )
