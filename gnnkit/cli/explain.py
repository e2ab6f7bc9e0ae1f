"""``gnnkit explain``: why did a saved model predict this? Explain one graph
(``--graph N``) or node (``--node ID``) and write an HTML page and a JSON of
the masks keyed by original ids."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from gnnkit._io import atomic_write_json
from gnnkit.cli.predict import (
    align_edges,
    load_input,
    to_target_units,
)
from gnnkit.cli.predict_text import (
    TEXT_KINDS,
    describe_kind,
    encode_like_training,
    text_mode,
)
from gnnkit.cli.run import (
    COLUMN_OPTIONS,
    PATH_OPTIONS,
    add_table_options,
    table_options,
)
from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError, ModelError
from gnnkit.explain.attributions import explain_graph, explain_node
from gnnkit.explain.results import Attribution
from gnnkit.explain.wrappers import DEFAULT_METHOD, METHODS
from gnnkit.models.persist import load_model, read_model_info
from gnnkit.viz.explain_figures import explanation_page, explanation_section

__all__ = ["add_parser", "run", "explain_saved", "explanation_section"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``explain`` and its options."""
    parser = subparsers.add_parser(
        "explain", help="explain one prediction of a saved model",
        description="Load a model saved by `gnnkit run` and the dataset "
        "recorded with it (read with the recorded table options; options "
        "given here win), explain one graph or node, and write "
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
    parser.add_argument("--out", default="runs/explanation",
                        help="output folder (default: runs/explanation)")
    add_table_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Explain and write the page and the JSON."""
    check_explainable(read_model_info(args.model))
    model, info = load_model(args.model)
    data = read_recorded(info.get("extra") or {}, args.dataset,
                         table_options(args))
    result = explain_loaded(model, info, data, graph=args.graph,
                            node=args.node, method=args.method)
    out = Path(args.out)
    atomic_write_json(out / "explanation.json", result.to_dict())
    what = describe_item(result, args.graph)
    page = explanation_page([result], f"Why this prediction? {what}")
    page.write(out / "explanation.html")
    print(f"{what}: {describe_target(result, info.get('classes'))}; "
          f"fidelity+ {result.fidelity_plus} (prediction changes without "
          f"the top parts; higher is better), fidelity- "
          f"{result.fidelity_minus} (changes with the top parts alone; "
          "lower is better)")
    print(f"page:  {out / 'explanation.html'}")
    print(f"masks: {out / 'explanation.json'}")
    return 0


def describe_item(result: Attribution, position: int | None) -> str:
    """``graph 3 (id 4)`` for a graph given by position, ``node a``."""
    if result.level == "graph":
        if position is not None and str(position) != str(result.item):
            return f"graph {position} (id {result.item})"
        return f"graph {result.item}"
    return f"node {result.item}"


def describe_target(result: Attribution, classes: list | None) -> str:
    """The explained class by its label, and the predicted one."""
    if not classes:
        return f"explained value {result.target}"
    target = classes[int(result.target)]
    scores = torch.tensor(result.prediction).softmax(-1)
    best = int(scores.argmax())
    text = f"explained class {target!r}"
    if best == int(result.target):
        return f"{text} (predicted, p = {float(scores[best]):.3f})"
    return f"{text} (predicted {classes[best]!r})"


def explain_saved(
    model_dir: str | Path,
    *,
    graph: int | None = None,
    node: Any = None,
    method: str = DEFAULT_METHOD,
    dataset: str | None = None,
    nodes: str | None = None,
    **options: Any,
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
        **options: other table options (``source=``, ``label=``, ...);
            default: those recorded with the model.

    Returns:
        Attribution: the explanation.
    """
    check_explainable(read_model_info(model_dir))
    model, info = load_model(model_dir)
    if nodes:
        options["nodes"] = nodes
    data = read_recorded(info.get("extra") or {}, dataset, options)
    return explain_loaded(model, info, data, graph=graph, node=node,
                          method=method)


def explain_loaded(model: Any, info: dict, data: GraphDataset, *,
                   graph: int | None, node: Any,
                   method: str) -> Attribution:
    """Explain one graph or node of ``data`` with a loaded model; a
    regression's value and prediction come in the target's units."""
    extra = info.get("extra") or {}
    task = extra.get("task") or data.task
    if (graph is None) == (node is None):
        raise DataError("give exactly one of graph=... or node=....")
    if text_mode(info) == "cascade":
        data = encode_like_training(data, extra)
    align_edges(model, extra, data)
    if graph is not None:
        _check_level(data, "graph", "--graph")
        result = explain_graph(model, data, graph, method=method, task=task)
    else:
        _check_level(data, "node", "--node")
        result = explain_node(model, data, node, method=method, task=task)
    if task == "regression":
        _to_target_units(result, extra)
    return result


def check_explainable(info: dict) -> None:
    """Refuse, before any data is read, a model kind explain cannot
    handle yet (those that read texts inside the model)."""
    if info.get("kind") in TEXT_KINDS:
        raise ModelError(
            f"gnnkit explain does not support models of kind "
            f"{describe_kind(info)} yet; gnnkit predict reads them."
        )


def _to_target_units(result: Attribution, extra: dict) -> None:
    """The explained value and the prediction in the target's units."""
    prediction = torch.tensor(result.prediction, dtype=torch.float)
    result.prediction = to_target_units(prediction, extra).tolist()
    target = torch.tensor(result.target, dtype=torch.float)
    value = to_target_units(target.view(-1), extra)
    result.target = value.view(target.shape).tolist()


def read_recorded(extra: dict, dataset: str | None,
                  options: dict[str, Any]) -> GraphDataset:
    """Read the dataset a model was trained on (or ``dataset``) the way
    it was read then; ``options`` win over the recorded ones."""
    recorded = dict(extra.get("data") or {})
    name = dataset or recorded.pop("dataset", None) or extra.get("dataset")
    if not name:
        raise DataError(
            "the saved model records no dataset; pass --dataset with the "
            "data it was trained on."
        )
    keep = COLUMN_OPTIONS + (() if dataset else PATH_OPTIONS)
    options = {**{k: v for k, v in recorded.items() if k in keep},
               **options}
    return load_input(name, options, extra)


def _check_level(data: GraphDataset, level: str, flag: str) -> None:
    if data.level != level:
        other = "--node" if level == "graph" else "--graph"
        raise DataError(
            f"dataset '{data.name}' is {data.level}-level, so {flag} does "
            f"not apply; use {other}."
        )
