"""``gnnkit run``: the main job. Read a dataset, cross-validate a model
beside a baseline, keep the trained model and write metrics and a report."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

import torch

from gnnkit._io import atomic_write_json
from gnnkit.cli.checks import check_cv_fits, check_output_dir
from gnnkit.cli.link import add_link_options
from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import load_dataset
from gnnkit.data.summary import summarize, summary_table
from gnnkit.errors import GnnkitError
from gnnkit.evaluate.cv import backbone_names
from gnnkit.evaluate.experiment import Experiment, run_experiment
from gnnkit.evaluate.recipes import Recipe, best_recipe, recipe_features
from gnnkit.models.persist import save_model
from gnnkit.viz.report import format_value

MODELS = ("gin", "gcn", "gat", "sage", "mlp")
#: What ``gnnkit run`` trains without --recipe.
DEFAULT_RECIPE = Recipe("gin", repeats=1)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``run`` and its options."""
    parser = subparsers.add_parser(
        "run", help="train, cross-validate and report on a dataset",
        description="Cross-validate a GNN (with an MLP baseline on the same "
        "folds; for node-level data the folds split the labelled nodes), "
        "save the model trained on all data, write metrics.json and "
        "report.html. --mode cascade|joint|lm instead trains once on a "
        "stratified 60/20/20 node split and writes metrics.json and the "
        "model (no folds, baseline or report).",
    )  # fmt: skip
    add_data_options(parser)
    parser.add_argument("--model", default=None, type=model_name,
                        help=f"GNN backbone, one of {', '.join(MODELS)}; "
                        "join several with '+' (e.g. gin+mlp) to average "
                        "their class probabilities (default: gin)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="models trained per backbone in each fold "
                        "and for the kept model, averaged (default: 1)")
    parser.add_argument("--jk", default=None, choices=("last", "cat", "max"),
                        help="jumping knowledge over layers (default: last)")
    parser.add_argument("--edge-features", action="store_true",
                        help="feed the dataset's edge features to gin "
                        "(as GINE) and gat")
    parser.add_argument("--rwse", type=int, default=None, metavar="K",
                        help="append each node's random-walk return "
                        "probabilities after 1..K steps to its features "
                        "(0: none; default: the recipe's, else 0)")
    parser.add_argument("--recipe", default=None, choices=("best",),
                        help="'best': the settings bench/graph_accuracy.py "
                        "measured best for MUTAG, PROTEINS or IMDB-BINARY "
                        "(options given explicitly win)")
    parser.add_argument("--task", default="auto", choices=("auto", "link"),
                        help="'link' runs link prediction (default: the "
                        "dataset's own task)")
    parser.add_argument("--mode", default=None,
                        choices=("gnn", "cascade", "joint", "lm"),
                        help="for graphs with node text: how the language "
                        "model is used (default: cascade for node texts "
                        "without numeric features, else gnn)")
    parser.add_argument("--cache", default=".gnnkit_cache",
                        help="folder of the language-model embedding cache "
                        "of --mode cascade (default: .gnnkit_cache in the "
                        "working directory)")
    parser.add_argument("--lm-strategy", default="lora",
                        help="LM strategy of --mode joint: frozen, top-k, "
                        "full, lora, prefix (default: lora)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="maximum epochs (default: 150; 300 in --mode "
                        "cascade, 4 in --mode joint)")
    parser.add_argument("--folds", type=int, default=10,
                        help="cross-validation folds (default: 10)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--hidden", type=int, default=None,
                        help="hidden channels (default: 64; 128 in --mode "
                        "cascade and joint)")
    parser.add_argument("--layers", type=int, default=None,
                        help="message-passing layers (default: 2 on "
                        "node-level data; on graph-level data 4 for gin, "
                        "3 for gcn/gat/sage)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the MLP baseline")
    parser.add_argument("--out", default=None,
                        help="output folder (default: runs/<dataset>-<model>)")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide progress bars")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: 1 for GNN "
                        "cross-validation, whose small tensors train "
                        "fastest on one thread; torch's default when a "
                        "language model runs)")
    add_link_options(parser)
    return parser


def model_name(value: str) -> str:
    """An argparse type: a backbone, or backbones joined by ``+``."""
    try:
        backbone_names(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value.lower()


def add_data_options(
    parser: argparse.ArgumentParser,
    default: str = "MUTAG",
    what: str = "shipped name, TU folder, or edge table (.csv/.tsv/.jsonl, "
                "optionally .gz)",
) -> None:
    """Options naming a dataset (``default`` unless given): a shipped
    name, a TU folder or tables."""
    parser.add_argument("--dataset", default=default,
                        help=f"{what} (default: {default})")
    add_table_options(parser)


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """Options saying how to read edge, node and graph tables."""
    group = parser.add_argument_group("CSV tables")
    group.add_argument("--nodes", help="node table for an edge table")
    group.add_argument("--graphs", help="graph table (graph id, label)")
    group.add_argument("--source", help="edge source column")
    group.add_argument("--target", help="edge target column")
    group.add_argument("--node-id", help="node id column")
    group.add_argument("--label", help="label column")
    group.add_argument("--text", help="node text column")
    group.add_argument("--graph-id", help="graph id column (graph tasks)")
    group.add_argument("--directed", action="store_true", default=None,
                       help="keep edges one-way")
    group.add_argument("--encoding", help="file encoding, e.g. latin-1")


#: Table options that name files, and those that name columns or settings.
PATH_OPTIONS = ("nodes", "graphs")
COLUMN_OPTIONS = ("source", "target", "node_id", "label", "text",
                  "graph_id", "directed", "encoding")


def table_options(args: argparse.Namespace) -> dict[str, Any]:
    """The table options given on the command line."""
    names = PATH_OPTIONS + COLUMN_OPTIONS
    return {n: getattr(args, n) for n in names
            if getattr(args, n, None) is not None}


def read_data(args: argparse.Namespace) -> GraphDataset:
    """Load the dataset named by the data options."""
    return load_dataset(args.dataset, **table_options(args))


def data_record(args: argparse.Namespace) -> dict[str, Any]:
    """How the data was read, for ``predict`` and ``explain`` to reuse:
    ``dataset`` (a shipped name or an absolute path) and the table
    options, with file paths made absolute."""
    record: dict[str, Any] = {"dataset": _absolute(args.dataset)}
    for key, value in table_options(args).items():
        record[key] = _absolute(value) if key in PATH_OPTIONS else value
    return record


def _absolute(name: str) -> str:
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else str(name)


def run(args: argparse.Namespace) -> int:
    """Run the job the options describe and print a summary."""
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.task == "link":
        from gnnkit.cli.link import run_link

        return run_link(args)
    dataset = read_data(args)
    args.mode = args.mode or default_mode(dataset)
    if dataset.level == "node" and args.mode != "gnn":
        from gnnkit.cli.compare import run_node_mode

        _refuse_cv_options(args)
        args.model = args.model or "gin"
        if args.no_progress:
            hide_library_progress()
        return run_node_mode(args, dataset)
    if args.mode != "gnn":
        raise GnnkitError(
            f"--mode {args.mode} is for node-level graphs with node text; "
            f"dataset '{dataset.name}' is graph-level (use --mode gnn)."
        )
    return run_cv_job(args, dataset)


def _refuse_cv_options(args: argparse.Namespace) -> None:
    given = [flag for flag, value in (
        ("--recipe", args.recipe), ("--repeats", args.repeats),
        ("--jk", args.jk), ("--edge-features", args.edge_features),
        ("--rwse", args.rwse is not None),
        ("--model a+b", "+" in (args.model or ""))) if value]
    if given:
        raise GnnkitError(
            f"{', '.join(given)} apply to cross-validation (--mode gnn), "
            f"not to --mode {args.mode}."
        )


def default_mode(dataset: GraphDataset) -> str:
    """``"cascade"`` for a node-level graph whose only features are its
    texts (a GNN would see a constant column), else ``"gnn"``."""
    text_only = (dataset.level == "node" and dataset.texts is not None
                 and dataset.feature_names == ["constant"])
    if text_only:
        print(f"{dataset.name}: nodes carry text and no numeric features, "
              "so the language model's embeddings are the features "
              "(--mode cascade; pass --mode gnn to train on a constant).")
        return "cascade"
    return "gnn"


def hide_library_progress() -> None:
    """Silence the progress bars of transformers and the Hugging Face
    hub (e.g. "Loading weights") for ``--no-progress``."""
    from huggingface_hub.utils import disable_progress_bars
    from transformers.utils import logging as hf_logging

    disable_progress_bars()
    hf_logging.disable_progress_bar()


def run_cv_job(args: argparse.Namespace, dataset: GraphDataset) -> int:
    """Cross-validate, save and report on a graph- or node-level dataset."""
    if args.threads is None:
        torch.set_num_threads(1)
    model, repeats, model_kwargs = cv_settings(args, dataset)
    out = Path(args.out or f"runs/{dataset.name}-{model}")
    check_output_dir(out)
    check_cv_fits(dataset, args.folds)
    summary = summarize(dataset)
    print(summary_table(summary))
    experiment = run_experiment(
        dataset, model, folds=args.folds, seed=args.seed,
        epochs=args.epochs, model_kwargs=model_kwargs or None,
        baseline=None if args.no_baseline else "mlp", repeats=repeats,
        baseline_kwargs=size_options(args),
        progress_bar=not args.no_progress,
    )  # fmt: skip
    write_outputs(out, experiment, summary, data_record(args),
                  recipe=args.recipe)
    print_results(experiment, out)
    return 0


def cv_settings(
    args: argparse.Namespace, dataset: GraphDataset
) -> tuple[str, int, dict[str, Any]]:
    """Backbone(s), repeats and ``build_model`` arguments of a ``run``:
    the options over ``--recipe best`` or over plain GIN. The recipe's
    node features (with ``--rwse`` over its random-walk steps) are
    applied to ``dataset`` here.

    Raises:
        GnnkitError: for edge features asked of a dataset without them.
    """
    recipe = best_recipe(dataset.name) if args.recipe else DEFAULT_RECIPE
    if args.rwse is not None:
        recipe = dataclasses.replace(recipe, rwse=args.rwse)
    recipe_features(dataset, recipe)
    repeats = recipe.repeats if args.repeats is None else args.repeats
    kwargs = {**recipe.model_kwargs, **size_options(args)}
    if args.jk is not None:
        kwargs["jk"] = args.jk
    if args.edge_features or recipe.edge_features:
        if not dataset.num_edge_features:
            raise GnnkitError(
                f"--edge-features: dataset '{dataset.name}' has no edge "
                "features."
            )
        kwargs["edge_dim"] = dataset.num_edge_features
    return args.model or recipe.model, repeats, kwargs


def size_options(args: argparse.Namespace) -> dict[str, int]:
    """``--hidden`` and ``--layers`` as ``build_model`` arguments: the
    only options the MLP baseline shares with the model (it keeps its
    own defaults otherwise, as in bench/graph_accuracy.py)."""
    return {k: v for k, v in (("hidden_channels", args.hidden),
                              ("num_layers", args.layers)) if v is not None}


def write_outputs(
    out: Path, experiment: Experiment, summary: dict[str, Any],
    record: dict[str, Any] | None = None, recipe: str | None = None,
) -> None:
    """metrics.json, the trained model and report.html under ``out``."""
    from gnnkit.viz.run_report import build_run_report

    dataset = experiment.dataset
    metrics = experiment.metrics()
    metrics["recipe"] = recipe
    metrics["summary"] = summary
    metrics["threads"] = torch.get_num_threads()
    atomic_write_json(out / "metrics.json", metrics)
    save_model(out / "model", experiment.model, classes=dataset.classes,
               extra=model_extra(experiment, record))  # fmt: skip
    build_run_report(experiment, summary).write(out / "report.html")


def model_extra(
    experiment: Experiment, record: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What predicting on new files needs beside the weights: the reader
    settings (``data``), feature names and scaling, target scaler."""
    dataset = experiment.dataset
    extra: dict[str, Any] = {
        "dataset": dataset.name,
        "level": dataset.level,
        "task": dataset.task,
        "feature_names": dataset.feature_names,
        "edge_feature_names": dataset.meta.get("edge_feature_names"),
        "source": dataset.meta.get("source"),
    }
    if record:
        extra["data"] = record
    if dataset.meta.get("feature_scaling"):
        extra["feature_scaling"] = dataset.meta["feature_scaling"]
    names = dataset.feature_names or []
    degree = [n for n in names if n.startswith("degree=")]
    if degree:
        extra["max_degree"] = len(degree) - 1
    scaler = getattr(experiment.model, "target_scaler", None)
    if scaler is not None:
        extra["target_scaler"] = scaler.to_dict()
    return extra


def print_results(experiment: Experiment, out: Path) -> None:
    """A short table of mean ± std per model, and where the files are."""
    metrics = experiment.metrics()
    rows = [(metrics["model"], metrics)]
    if "baseline" in metrics:
        rows.append((metrics["baseline"]["model"], metrics["baseline"]))
    names = experiment.metric_names
    print()
    print(f"{'model':<8}" + "".join(f"{n:>22}" for n in names))
    for model, table in rows:
        cells = "".join(f"{_cell(table[n]):>22}" for n in names)
        print(f"{model:<8}{cells}")
    over = " over nodes" if experiment.dataset.level == "node" else ""
    print(f"\n{len(experiment.cv.folds)}-fold CV{over} on "
          f"{metrics['dataset']} in {metrics['wall_seconds']:.1f} s")
    print(f"report:  {out / 'report.html'}")
    print(f"metrics: {out / 'metrics.json'}")
    print(f"model:   {out / 'model'}")
    sys.stdout.flush()


def _cell(entry: dict[str, Any]) -> str:
    if entry["mean"] is None:
        return "undefined"
    return f"{format_value(entry['mean'])} ± {format_value(entry['std'])}"
