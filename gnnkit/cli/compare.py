"""``gnnkit compare``: every LM/GNN combination on one text graph.

Writes one table to ``metrics.json`` and the HTML report; also runs one
node-level mode for ``gnnkit run --mode cascade|joint|lm``.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

from gnnkit._io import atomic_write_json
from gnnkit.cli.run import (
    add_data_options,
    data_record,
    hide_library_progress,
    read_data,
)
from gnnkit.data.dataset import GraphDataset
from gnnkit.evaluate.compare import (
    COLUMNS,
    DEFAULT_MODES,
    ComparisonResult,
    combined_rows,
    compare,
    make_splits,
)
from gnnkit.evaluate.metrics import classification_metrics
from gnnkit.evaluate.modes import (
    CompareSettings,
    FeatureStore,
    ModeRun,
    parse_mode,
    run_mode,
)
from gnnkit.train.joint import JointSettings


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``compare`` and its options."""
    parser = subparsers.add_parser(
        "compare", help="compare LM and GNN combinations on a text graph",
        description="Run every mode on the same splits (epochs chosen on "
        "validation, test touched once) and write one table to "
        "metrics.json and report.html.",
    )  # fmt: skip
    add_data_options(parser, default="Cora_TAG")
    parser.add_argument("--modes", nargs="+", default=list(DEFAULT_MODES),
                        help="modes, e.g. cascade_gcn cascade_appnp "
                        "tfidf_gcn mlp_lm hybrid_appnp hybrid_grand "
                        "joint_lora joint_top-2 lm "
                        f"(default: {' '.join(DEFAULT_MODES)})")
    parser.add_argument("--seeds", type=int, default=5,
                        help="seeds, one split each (default: 5)")
    parser.add_argument("--split", default="60/20/20",
                        help="train/val/test percentages (default: 60/20/20)")
    parser.add_argument("--labels-per-class", type=int, nargs="+",
                        default=None, metavar="K",
                        help="K labelled nodes per class instead of "
                        "--split (500 validation nodes); several K give "
                        "one table with a split column")
    add_model_options(parser)
    parser.add_argument("--out", default=None,
                        help="output folder (default: runs/compare-<dataset>)")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide progress bars")
    return parser


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Options of the language model and of joint training."""
    group = parser.add_argument_group("language model")
    group.add_argument("--lm", default=None,
                       help="LM name or folder (default: the shipped "
                       "all-MiniLM-L6-v2)")
    group.add_argument("--max-length", type=int, default=256,
                       help="tokens per text for cascade features "
                       "(default: 256)")
    group.add_argument("--joint-max-length", type=int, default=128,
                       help="tokens per text in joint training "
                       "(default: 128)")
    group.add_argument("--joint-epochs", type=int, default=4,
                       help="epochs of joint training (default: 4)")
    group.add_argument("--cache", default=".gnnkit_cache",
                       help="embedding cache folder (default: .gnnkit_cache)")


def settings_from(args: argparse.Namespace, **gnn: Any) -> CompareSettings:
    """:class:`CompareSettings` from the command-line options."""
    joint = JointSettings(max_length=args.joint_max_length,
                          epochs=args.joint_epochs)
    gnn = {k: v for k, v in gnn.items() if v is not None}
    return CompareSettings(
        lm=args.lm, max_length=args.max_length, cache=args.cache or None,
        joint=joint, progress_bar=not args.no_progress, **gnn)


def run(args: argparse.Namespace) -> int:
    """Compare the modes and write ``metrics.json`` and ``report.html``."""
    if args.no_progress:
        hide_library_progress()
    dataset = read_data(args)
    out = Path(args.out or f"runs/compare-{dataset.name}")
    options = {"seeds": args.seeds, "settings": settings_from(args)}
    if args.labels_per_class:
        results = [compare(dataset, args.modes, split="k_per_class", k=k,
                           **options) for k in args.labels_per_class]
    else:
        results = [compare(dataset, args.modes, split=args.split, **options)]
    table = combined_rows(results) if len(results) > 1 else results[0].rows
    metrics = {"dataset": dataset.name,
               "split": [r.split for r in results] if len(results) > 1
               else results[0].split,
               "seeds": results[0].seeds,
               "columns": (["split"] if len(results) > 1 else [])
               + list(COLUMNS),
               "table": table,
               "runs": [run for r in results for run in r.runs],
               "settings": results[0].settings}
    metrics["report"] = write_report(out / "report.html", results)
    atomic_write_json(out / "metrics.json", metrics)
    for result in results:
        print(result.format_table())
    print(f"wrote {out / 'metrics.json'}")
    return 0


def write_report(path: Path, results: list[ComparisonResult]) -> str:
    """Write the comparisons as an HTML report; return what was written.

    Returns:
        str: the report path, or a note when :mod:`gnnkit.viz.report` is
        not available.
    """
    try:
        import plotly.graph_objects as go

        from gnnkit.viz.report import Report
    except ImportError as err:
        return f"no HTML report: gnnkit.viz.report unavailable ({err})"
    first = results[0]
    report = Report(f"{first.dataset}: language models and GNNs compared")
    figure = go.Figure()
    for result in results:
        note = (f"Seeds {result.seeds}; epochs chosen on validation, test "
                "nodes scored once per run.")
        report.add_table(f"Comparison, split {result.split}", result.rows,
                         [*COLUMNS, "runs"], note)
        figure.add_trace(go.Bar(
            name=result.split, x=[r["mode"] for r in result.rows],
            y=[r["accuracy_mean"] for r in result.rows],
            error_y={"type": "data",
                     "array": [r["accuracy_std"] for r in result.rows]}))
    figure.update_layout(yaxis_title="test accuracy", height=380,
                         barmode="group")
    report.add_figure("Test accuracy (mean ± std over seeds)", figure)
    report.add_table("Every run", [run for r in results for run in r.runs])
    return report.write(path)


MODE_NAMES = {"gnn": "gnn_{model}", "cascade": "cascade_{model}",
              "joint": "joint_{strategy}_{model}", "lm": "lm"}


def run_node_mode(args: argparse.Namespace, dataset: GraphDataset) -> int:
    """``gnnkit run --mode cascade|joint|lm`` on a node-level dataset.

    Trains one mode on a stratified 60/20/20 split (no folds, baseline or
    report), saves the model and writes ``metrics.json``; says so.
    """
    name = MODE_NAMES["gnn" if args.mode == "gnn" else args.mode].format(
        model=args.model, strategy=args.lm_strategy)
    mode = parse_mode(name)
    settings = _run_settings(args)
    split = make_splits(dataset.y.view(-1).long(), [args.seed])[0]
    out = Path(args.out or f"runs/{dataset.name}-{name}")
    start = time.perf_counter()
    done = run_mode(mode, dataset, FeatureStore(dataset, settings), split,
                    args.seed, settings)
    scores = classification_metrics(dataset.y[split[2]], done.test_logits,
                                     num_classes=dataset.num_classes)
    scores.pop("confusion_matrix")
    metrics = {"dataset": dataset.name, "mode": name, "seed": args.seed,
               "task": "node_classification", "split": "60/20/20",
               "test": scores, "best_epoch": done.fit.best_epoch,
               "val_accuracy": done.fit.best_score,
               "train_seconds": done.fit.train_seconds,
               "wall_seconds": time.perf_counter() - start,
               "trainable_parameters": done.trainable_parameters,
               "history": done.fit.history}
    metrics["model_path"] = save_run_model(out / "model", mode, done,
                                           dataset, settings,
                                           data_record(args))
    atomic_write_json(out / "metrics.json", metrics)
    if (out / "report.html").exists():
        warnings.warn(f"{out / 'report.html'} is left from an earlier run "
                      f"and does not describe this one (--mode {args.mode} "
                      "writes no report).", UserWarning, stacklevel=2)
    print(f"{dataset.name} {name}: one stratified 60/20/20 node split "
          f"(seed {args.seed}; --mode {args.mode} does not cross-validate, "
          "so --folds is not used, and runs no baseline and writes no "
          "report.html)")
    print(f"test accuracy {scores['accuracy']:.4f}, macro-F1 "
          f"{scores['macro_f1']:.4f} on {len(split[2])} test nodes")
    print(f"metrics: {out / 'metrics.json'}")
    print(f"model:   {metrics['model_path']}")
    return 0


def _run_settings(args: argparse.Namespace) -> CompareSettings:
    defaults = {"lm": None, "max_length": 256, "joint_max_length": 128,
                "joint_epochs": args.epochs or 4,
                "no_progress": getattr(args, "no_progress", False)}
    for key, value in defaults.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    return settings_from(args, epochs=args.epochs,
                         hidden_channels=args.hidden, num_layers=args.layers)


def save_run_model(folder: Path, mode: Any, done: ModeRun,
                   dataset: GraphDataset, settings: CompareSettings,
                   record: dict[str, Any] | None = None) -> str:
    """Save the trained model of one mode; return its folder. ``record``
    (how the data was read) is kept with feature-mode models."""
    if mode.kind == "joint":
        done.model.save(folder)
        return str(folder)
    from gnnkit.models.persist import save_model

    if mode.kind == "lm":  # a Hugging Face folder, label names in id2label
        done.model.classes = dataset.classes
        save_model(folder, done.model)
        return str(folder)
    extra = {"mode": mode.name, "features": mode.features,
             "lm": settings.lm, "pooling": settings.pooling,
             "max_length": settings.max_length,
             "normalize": settings.normalize,
             "tfidf_features": settings.tfidf_features,
             "dataset": dataset.name, "level": dataset.level,
             "task": dataset.task}
    if record:
        extra["data"] = record
    save_model(folder, done.model, classes=dataset.classes, extra=extra)
    return str(folder)

