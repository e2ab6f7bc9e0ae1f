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
from gnnkit.evaluate.cv import (
    CV_TRAIN,
    CVResult,
    check_repeats,
    combine,
    cross_validate,
    train_members,
)
from gnnkit.evaluate.node_cv import (
    NODE_TRAIN,
    cross_validate_nodes,
    labelled_nodes,
    train_nodes,
)
from gnnkit.models.base import GraphModel
from gnnkit.models.ensemble import Ensemble
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import Callback, FitResult

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
        model (GraphModel or Ensemble): the model trained on all graphs
            (an :class:`~gnnkit.models.ensemble.Ensemble` when the cross-
            validation averaged several per fold).
        final_fit (FitResult): its training history (the first member's).
        wall_seconds (float): time of the whole job.
        model_kwargs (dict): the ``build_model`` arguments asked for.
        baseline_kwargs (dict): those of the baseline.
        final_fits (list[FitResult]): every final member's history.
    """

    dataset: GraphDataset
    cv: CVResult
    baseline: CVResult | None
    model: GraphModel | Ensemble
    final_fit: FitResult
    wall_seconds: float
    model_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    baseline_kwargs: dict[str, Any] = dataclasses.field(
        default_factory=dict)
    final_fits: list[FitResult] = dataclasses.field(default_factory=list)

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
            "repeats": self.cv.repeats,
            "wall_seconds": round(self.wall_seconds, 2),
        }
        out.update(fold_table(self.cv, self.metric_names))
        if self.cv.task == "classification":
            out["pooled_roc_auc"] = self.cv.pooled_roc_auc()
        if self.baseline is not None:
            out["baseline"] = {
                "model": self.baseline.model_config["name"],
                "model_kwargs": self.baseline_kwargs,
                **fold_table(self.baseline, self.metric_names),
            }
        out["model_kwargs"] = self.model_kwargs
        out["model_config"] = self.cv.model_config
        out["train_config"] = self.cv.train_config
        out["final_model_best_epoch"] = self.final_fit.best_epoch
        if len(self.final_fits) > 1:
            out["final_member_best_epochs"] = [f.best_epoch
                                               for f in self.final_fits]
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
    repeats: int = 1,
    baseline_kwargs: dict[str, Any] | None = None,
    progress_bar: bool = True,
    callbacks: Sequence[Callback] = (),
) -> Experiment:
    """Cross-validate ``model`` (and ``baseline``) and train a final model.

    Graph-level data is split over graphs (:func:`cross_validate`); the
    final model trains on all graphs but a stratified 10 % held out for
    early stopping (each of ``repeats`` members with its own split, for
    every backbone of an ensemble). Node-level data is split over its
    labelled nodes (:func:`~gnnkit.evaluate.node_cv.cross_validate_nodes`);
    the final model trains on all of them but a stratified 20 % held out.

    Args:
        dataset (GraphDataset): a graph- or node-level dataset.
        model (str): backbone name, or names joined by ``+`` for an
            ensemble (graph-level data). (default: ``"gin"``)
        folds (int): outer folds. (default: ``10``)
        seed (int): seed of splits and training. (default: ``0``)
        epochs (int, optional): overrides the epochs of ``train_config``.
        baseline (str, optional): a second backbone run on the same folds;
            ``None`` skips it. (default: ``"mlp"``)
        model_kwargs (dict, optional): extra ``build_model`` arguments.
        train_config (TrainConfig, optional): default: :data:`CV_TRAIN`
            (graphs) or :data:`~gnnkit.evaluate.node_cv.NODE_TRAIN`.
        repeats (int): models trained per backbone and averaged, in each
            fold and for the final model; the baseline gets as many
            (graph-level data). (default: ``1``)
        baseline_kwargs (dict, optional): ``build_model`` arguments of the
            baseline. (default: ``model_kwargs``)
        progress_bar (bool): show progress bars. (default: ``True``)
        callbacks (sequence): passed on to every :func:`fit`.

    Returns:
        Experiment: cross-validation results and the model to keep.

    Raises:
        ValueError: for an ensemble or ``repeats > 1`` on node-level data.
    """
    start = time.perf_counter()
    nodes = dataset.level == "node"
    _check_averaging(dataset, model, repeats)
    config = train_config or TrainConfig(**(NODE_TRAIN if nodes
                                            else CV_TRAIN))
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
    cross_validator = cross_validate_nodes if nodes else cross_validate
    options = dict(folds=folds, seed=seed, train_config=config,
                   model_kwargs=model_kwargs, progress_bar=progress_bar,
                   callbacks=callbacks)  # fmt: skip
    if not nodes:
        options["repeats"] = repeats
    cv = cross_validator(dataset, model, **options)
    base = None
    if baseline_kwargs is None:
        baseline_kwargs = model_kwargs
    if baseline and baseline != model:
        options["model_kwargs"] = baseline_kwargs
        base = cross_validator(dataset, baseline, **options)
    if nodes:
        final, final_fit, _ = train_nodes(
            dataset, labelled_nodes(dataset), cv.model_config,
            dataclasses.replace(config, progress_bar=False), seed)
        final_fits = [final_fit]
    else:
        final, final_fits = train_final_model(dataset, cv, config, seed)
    return Experiment(
        dataset=dataset, cv=cv, baseline=base, model=final,
        final_fit=final_fits[0], wall_seconds=time.perf_counter() - start,
        model_kwargs=dict(model_kwargs or {}), final_fits=final_fits,
        baseline_kwargs=dict(baseline_kwargs or {}),
    )  # fmt: skip


def _check_averaging(dataset: GraphDataset, model: str,
                     repeats: int) -> None:
    check_repeats(repeats)
    if dataset.level == "node" and (repeats > 1 or "+" in str(model)):
        raise ValueError(
            f"repeats > 1 and ensembles such as 'gin+mlp' are for "
            f"graph-level data; {dataset.name!r} is node-level (got "
            f"model={model!r}, repeats={repeats})."
        )


def train_final_model(
    dataset: GraphDataset, cv: CVResult, config: TrainConfig, seed: int
) -> tuple[GraphModel | Ensemble, list[FitResult]]:
    """Train the cross-validated architecture on (almost) all graphs: as
    in a fold, ``cv.repeats`` times per backbone (seeds ``seed``,
    ``seed + 1``, ...), each member early-stopping on its own stratified
    10 % of the graphs.

    Returns:
        tuple: the model in eval mode (an ensemble for several members)
        with its ``target_scaler``, and every member's fit result.
    """
    every = torch.arange(len(dataset))
    seeds = [seed + r for r in range(cv.repeats)]
    models, fits, scaler = train_members(
        dataset, every, cv.model_config,
        dataclasses.replace(config, progress_bar=False), seeds)
    model = combine(models, dataset.task)
    model.target_scaler = scaler
    return model.eval(), fits
