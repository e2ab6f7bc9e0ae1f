"""The main job: cross-validate a GNN beside a structure-agnostic
baseline on graphs or on the labelled nodes of one graph, then train the
model to keep on all of them."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from gnnkit.data.dataset import GraphDataset
from gnnkit.evaluate.cv import CV_TRAIN, CVResult, cross_validate
from gnnkit.evaluate.node_cv import (
    NODE_TRAIN,
    cross_validate_nodes,
    labelled_nodes,
    train_nodes,
)
from gnnkit.evaluate.splits import inner_validation_split
from gnnkit.models.backbones import GraphModel, build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import Callback, FitResult, fit
from gnnkit.train.tasks import GraphTask

#: Metrics written per fold and summarised in ``metrics.json``.
CLASSIFICATION_METRICS = ("accuracy", "macro_f1", "roc_auc")
REGRESSION_METRICS = ("rmse", "mae", "r2")


@dataclass
class Experiment:
    """Everything one ``gnnkit run`` on graph-level data produced.

    Attributes:
        dataset (GraphDataset): the data.
        cv (CVResult): cross-validation of the chosen model.
        baseline (CVResult, optional): the same folds for the MLP baseline.
        model (GraphModel): the model trained on all graphs.
        final_fit (FitResult): its training history.
        wall_seconds (float): time of the whole job.
    """

    dataset: GraphDataset
    cv: CVResult
    baseline: CVResult | None
    model: GraphModel
    final_fit: FitResult
    wall_seconds: float

    @property
    def metric_names(self) -> tuple[str, ...]:
        """The metrics that matter for this task."""
        if self.dataset.task == "classification":
            return CLASSIFICATION_METRICS
        return REGRESSION_METRICS

    def metrics(self) -> dict[str, Any]:
        """The JSON-able content of ``metrics.json``."""
        out: dict[str, Any] = {
            "dataset": self.dataset.name,
            "model": self.cv.model_config["name"],
            "task": f"{self.dataset.level}_{self.dataset.task}",
            "seed": self.cv.seed,
            "folds": len(self.cv.folds),
            "wall_seconds": round(self.wall_seconds, 2),
        }
        out.update(fold_table(self.cv, self.metric_names))
        if self.cv.task == "classification":
            out["pooled_roc_auc"] = self.cv.pooled_roc_auc()
        if self.baseline is not None:
            out["baseline"] = {
                "model": self.baseline.model_config["name"],
                **fold_table(self.baseline, self.metric_names),
            }
        out["model_config"] = self.cv.model_config
        out["train_config"] = self.cv.train_config
        out["final_model_best_epoch"] = self.final_fit.best_epoch
        return out


def fold_table(cv: CVResult, names: Sequence[str]) -> dict[str, Any]:
    """Per metric: values per fold, mean and std over defined folds."""
    table = {}
    for name in names:
        summary = cv.summary.get(name, {})
        table[name] = {
            "per_fold": [fold.metrics.get(name) for fold in cv.folds],
            "mean": summary.get("mean"),
            "std": summary.get("std"),
            "n_defined": summary.get("n_defined"),
        }
        reasons = [f.metrics.get(f"{name}_reason") for f in cv.folds]
        if any(reasons):
            table[name]["undefined_reasons"] = reasons
    return table


def run_experiment(
    dataset: GraphDataset,
    model: str = "gin",
    *,
    folds: int = 10,
    seed: int = 0,
    epochs: int | None = None,
    baseline: str | None = "mlp",
    model_kwargs: dict[str, Any] | None = None,
    train_config: TrainConfig | None = None,
    progress_bar: bool = True,
    callbacks: Sequence[Callback] = (),
) -> Experiment:
    """Cross-validate ``model`` (and ``baseline``) and train a final model.

    Graph-level data is split over graphs (:func:`cross_validate`); the
    final model trains on all graphs but a stratified 10 % held out for
    early stopping. Node-level data is split over its labelled nodes
    (:func:`~gnnkit.evaluate.node_cv.cross_validate_nodes`); the final
    model trains on all of them but a stratified 20 % held out.

    Args:
        dataset (GraphDataset): a graph- or node-level dataset.
        model (str): backbone name. (default: ``"gin"``)
        folds (int): outer folds. (default: ``10``)
        seed (int): seed of splits and training. (default: ``0``)
        epochs (int, optional): overrides the epochs of ``train_config``.
        baseline (str, optional): a second backbone run on the same folds;
            ``None`` skips it. (default: ``"mlp"``)
        model_kwargs (dict, optional): extra ``build_model`` arguments.
        train_config (TrainConfig, optional): default: :data:`CV_TRAIN`
            (graphs) or :data:`~gnnkit.evaluate.node_cv.NODE_TRAIN`.
        progress_bar (bool): show progress bars. (default: ``True``)
        callbacks (sequence): passed on to every :func:`fit`.

    Returns:
        Experiment: cross-validation results and the model to keep.
    """
    start = time.perf_counter()
    nodes = dataset.level == "node"
    config = train_config or TrainConfig(**(NODE_TRAIN if nodes
                                            else CV_TRAIN))
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
    cross_validator = cross_validate_nodes if nodes else cross_validate
    options = dict(folds=folds, seed=seed, train_config=config,
                   model_kwargs=model_kwargs, progress_bar=progress_bar,
                   callbacks=callbacks)  # fmt: skip
    cv = cross_validator(dataset, model, **options)
    base = None
    if baseline and baseline != model:
        base = cross_validator(dataset, baseline, **options)
    if nodes:
        final, final_fit, _ = train_nodes(
            dataset, labelled_nodes(dataset), cv.model_config,
            dataclasses.replace(config, progress_bar=False), seed)
    else:
        final, final_fit = train_final_model(dataset, cv, config, seed)
    return Experiment(
        dataset=dataset, cv=cv, baseline=base, model=final,
        final_fit=final_fit, wall_seconds=time.perf_counter() - start,
    )  # fmt: skip


def train_final_model(
    dataset: GraphDataset, cv: CVResult, config: TrainConfig, seed: int
) -> tuple[GraphModel, FitResult]:
    """Train the cross-validated architecture on (almost) all graphs."""
    every = torch.arange(len(dataset))
    train_index, val_index = inner_validation_split(
        every, dataset.y, fraction=0.1, seed=seed
    )
    task = GraphTask(
        dataset.subset(train_index).graphs,
        dataset.subset(val_index).graphs,
        task=dataset.task,
        batch_size=config.batch_size,
    )
    torch.manual_seed(seed)
    model = build_model(**cv.model_config)
    result = fit(model, task, dataclasses.replace(config, seed=seed,
                                                  progress_bar=False))
    model.target_scaler = task.target_scaler
    return model.eval(), result
