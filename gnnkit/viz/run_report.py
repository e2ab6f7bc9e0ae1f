"""The HTML report of ``gnnkit run`` over graphs or nodes: dataset
summary, per-fold metrics beside the baseline, training curves, confusion
matrix, explanations."""

from __future__ import annotations

from typing import Any

import numpy as np

from gnnkit.evaluate.cv import CVResult
from gnnkit.evaluate.experiment import Experiment
from gnnkit.viz.explain_figures import explanation_section
from gnnkit.viz.figures import (
    confusion_matrix_figure,
    fold_metrics_figure,
    training_curves,
)
from gnnkit.viz.report import Report


def build_run_report(
    experiment: Experiment, summary: dict[str, Any]
) -> Report:
    """Assemble the report of one run, over graphs or over nodes.

    Args:
        experiment (Experiment): what :func:`run_experiment` returned.
        summary (dict): :func:`gnnkit.data.summary.summarize` of the data.
    """
    cv = experiment.cv
    names = experiment.metric_names
    nodes = experiment.dataset.level == "node"
    report = Report(
        f"gnnkit run: {experiment.dataset.name}, "
        f"{cv.model_config['name'].upper()}, {len(cv.folds)}-fold CV"
        + (" over nodes" if nodes else "")
    )
    protocol = node_protocol_text if nodes else protocol_text
    report.add_text("Protocol", protocol(experiment))
    report.add_table("Results", result_rows(experiment), note=(
        "Mean ± std over the test folds; an undefined metric (e.g. ROC-AUC "
        "on a fold with one class) is left out of the mean, and 'defined' "
        "counts the folds that entered it."
    ))  # fmt: skip
    report.add_table("Dataset", summary_rows(summary), ["field", "value"])
    report.add_table("Test metrics per fold",
                     fold_rows(cv, names, "nodes" if nodes else "graphs"))
    report.add_figure(
        "Test metrics per fold",
        fold_metrics_figure([f.metrics for f in cv.folds], names[:2]),
    )
    report.add_figure(
        "Training curves",
        training_curves([f.history for f in cv.folds]),
        note="Training loss and the validation metric (inner split of the "
        "fold's training part) per epoch; early stopping restores the best "
        "validation epoch.",
    )
    if cv.task == "classification":
        report.add_figure(
            "Confusion matrix",
            confusion_matrix_figure(
                pooled_confusion(cv), experiment.dataset.classes
            ),
            note="Summed over every test fold; labels are the original "
            "class values of the dataset.",
        )
    report.add_html(
        f"Explanations of test {'nodes' if nodes else 'examples'}",
        explanation_section(
            experiment.model, experiment.dataset, explained_examples(cv)
        ),
    )
    return report


def explained_examples(cv: CVResult, count: int = 3) -> list[int]:
    """The first test graphs of fold 1, explained in the report."""
    return cv.folds[0].test_index[:count]


def protocol_text(experiment: Experiment) -> str:
    """How the numbers were produced, in two short paragraphs."""
    cv = experiment.cv
    train = cv.train_config
    return (
        f"{len(cv.folds)}-fold stratified cross-validation (seed {cv.seed})."
        " In each fold a stratified 10% of the training part is held out "
        "for early stopping; the test fold is used once, after training, "
        "and never for selection.\n\n"
        f"Optimizer {train.get('optimizer')}, learning rate "
        f"{train.get('lr')}, weight decay {train.get('weight_decay')}, "
        f"batch size {train.get('batch_size')}, up to "
        f"{train.get('epochs')} epochs with patience "
        f"{train.get('patience')}. Wall time "
        f"{experiment.wall_seconds:.1f} s."
    )


def node_protocol_text(experiment: Experiment) -> str:
    """How the numbers of a node-level run were produced."""
    cv = experiment.cv
    train = cv.train_config
    share = round(100 * train.get("val_fraction", 0.2))
    return (
        f"{len(cv.folds)}-fold stratified cross-validation over the "
        f"labelled nodes (seed {cv.seed}). Every fold trains on the whole "
        "graph (all edges and node features) with the loss on its "
        f"training nodes; a stratified {share}% of those training nodes is "
        "held out for early stopping, and the fold's test nodes are scored "
        "once, after training, and never used for selection.\n\n"
        f"Optimizer {train.get('optimizer')}, learning rate "
        f"{train.get('lr')}, weight decay {train.get('weight_decay')}, "
        f"full batch, up to {train.get('epochs')} epochs with patience "
        f"{train.get('patience')}. Wall time "
        f"{experiment.wall_seconds:.1f} s."
    )


def result_rows(experiment: Experiment) -> list[dict[str, Any]]:
    """One row per model (the GNN, then the baseline)."""
    runs = [experiment.cv] + (
        [experiment.baseline] if experiment.baseline else []
    )
    rows = []
    for cv in runs:
        row: dict[str, Any] = {"model": cv.model_config["name"]}
        for name in experiment.metric_names:
            s = cv.summary.get(name, {})
            row[name] = _mean_std(s)
            row[f"{name} defined"] = f"{s.get('n_defined')}/{len(cv.folds)}"
        rows.append(row)
    return rows


def fold_rows(
    cv: CVResult, names: tuple[str, ...], unit: str = "graphs"
) -> list[dict]:
    """Test metrics, best epoch and test size (in ``unit``) per fold."""
    rows = []
    for fold in cv.folds:
        row: dict[str, Any] = {"fold": fold.index + 1}
        row.update({n: fold.metrics.get(n) for n in names})
        row["best epoch"] = fold.best_epoch
        row[f"test {unit}"] = len(fold.test_index)
        rows.append(row)
    return rows


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The dataset summary flattened to field/value rows."""
    rows = []
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {_short(v)}" for k, v in value.items())
        rows.append({"field": key, "value": _short(value)})
    return rows


def pooled_confusion(cv: CVResult) -> list[list[int]]:
    """The confusion matrices of all folds added together."""
    total = None
    for fold in cv.folds:
        matrix = np.asarray(fold.metrics["confusion_matrix"])
        total = matrix if total is None else total + matrix
    return total.tolist()


def _mean_std(summary: dict[str, Any]) -> str:
    if summary.get("mean") is None:
        return "undefined"
    return f"{summary['mean']:.4f} ± {summary['std']:.4f}"


def _short(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value
