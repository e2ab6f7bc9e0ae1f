"""The HTML report of a node-level ``gnnkit run``: the graph-level
report's sections (results beside the baseline, per-fold metrics,
training curves, confusion matrix, explanations) with a node protocol."""

from __future__ import annotations

from typing import Any

from gnnkit.evaluate.experiment import Experiment
from gnnkit.viz.explain_figures import explanation_section
from gnnkit.viz.figures import (
    confusion_matrix_figure,
    fold_metrics_figure,
    training_curves,
)
from gnnkit.viz.report import Report
from gnnkit.viz.run_report import (
    explained_examples,
    fold_rows,
    pooled_confusion,
    result_rows,
    summary_rows,
)


def build_node_run_report(
    experiment: Experiment, summary: dict[str, Any]
) -> Report:
    """Assemble the report of one node-level run.

    Args:
        experiment (Experiment): what
            :func:`~gnnkit.evaluate.node_cv.run_node_experiment` returned.
        summary (dict): :func:`gnnkit.data.summary.summarize` of the data.
    """
    cv = experiment.cv
    names = experiment.metric_names
    report = Report(
        f"gnnkit run: {experiment.dataset.name}, "
        f"{cv.model_config['name'].upper()}, {len(cv.folds)}-fold CV "
        "over nodes"
    )
    report.add_text("Protocol", node_protocol_text(experiment))
    report.add_table("Results", result_rows(experiment), note=(
        "Mean ± std over the test folds; an undefined metric is left out "
        "of the mean, and 'defined' counts the folds that entered it."
    ))  # fmt: skip
    report.add_table("Dataset", summary_rows(summary), ["field", "value"])
    rows = fold_rows(cv, names)
    for row in rows:
        row["test nodes"] = row.pop("test graphs")
    report.add_table("Test metrics per fold", rows)
    report.add_figure(
        "Test metrics per fold",
        fold_metrics_figure([f.metrics for f in cv.folds], names[:2]),
    )
    report.add_figure(
        "Training curves", training_curves([f.history for f in cv.folds]),
        note="Training loss and the validation metric (inner split of the "
        "fold's training nodes) per epoch; early stopping restores the "
        "best validation epoch.",
    )
    if cv.task == "classification":
        report.add_figure(
            "Confusion matrix",
            confusion_matrix_figure(pooled_confusion(cv),
                                    experiment.dataset.classes),
            note="Summed over every test fold; labels are the original "
            "class values of the dataset.",
        )
    report.add_html(
        "Explanations of test nodes",
        explanation_section(experiment.model, experiment.dataset,
                            explained_examples(cv)),
    )
    return report


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
