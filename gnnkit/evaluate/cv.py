"""Cross-validation of graph-level models with an inner validation split.

Each outer fold trains on its training part, early-stops on a stratified
validation split taken from that training part, and touches its test part
once, after training (the protocol of Errica et al., 2020). With
``repeats > 1`` each fold trains that many models, each with its own
initialisation and inner validation split, and tests their average; a
model named ``"gin+mlp"`` trains each backbone in every repeat and tests
the average of them all.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
from tqdm.auto import tqdm

from gnnkit.data.dataset import GraphDataset
from gnnkit.evaluate.metrics import (
    classification_metrics,
    pooled_roc_auc,
    regression_metrics,
    summarize_folds,
)
from gnnkit.evaluate.splits import inner_validation_split, stratified_kfold
from gnnkit.models.backbones import MODELS, build_model
from gnnkit.models.base import GraphModel
from gnnkit.models.ensemble import Ensemble
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import Callback, FitResult, fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import GraphTask, TargetScaler

logger = logging.getLogger(__name__)

#: Training defaults of :func:`cross_validate` (see bench/graph_accuracy.py).
CV_TRAIN = dict(epochs=150, patience=50, lr=1e-2, batch_size=32)
#: Model defaults per backbone: GIN and the MLP baseline sum node
#: embeddings, as in the GIN paper.
CV_MODEL = {
    "gin": dict(pooling="sum", num_layers=4),
    "mlp": dict(pooling="sum", num_layers=2),
}


@dataclass
class CVFold:
    """One outer fold of :func:`cross_validate`.

    Attributes:
        index (int): fold number (0-based).
        metrics (dict): test metrics of the fold.
        history (list[dict]): the fold's training history.
        test_index (list[int]): dataset indices of the test graphs.
        y_true (list): their targets (class ids or original units).
        scores (list): class probabilities ``[n, C]`` (classification) or
            predictions in original units (regression).
        best_epoch (int): epoch restored by early stopping.
        state_dict (dict): trained weights (see :meth:`CVResult.model`).
        target_scaler (TargetScaler, optional): regression scaler.
        member_states (list[dict]): weights of every member when the fold
            trained several (``repeats > 1`` or an ensemble of backbones),
            repeat by repeat, backbones in ``model_config["members"]``
            order within a repeat; ``state_dict`` is the first. Empty for a
            single model.
        member_best_epochs (list[int]): best epoch of every member
            (``history`` and ``best_epoch`` are the first member's).
    """

    index: int
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    test_index: list[int]
    y_true: list[Any]
    scores: list[Any]
    best_epoch: int
    state_dict: dict[str, torch.Tensor] = field(repr=False,
                                                default_factory=dict)
    target_scaler: TargetScaler | None = None
    member_states: list[dict[str, torch.Tensor]] = field(
        repr=False, default_factory=list)
    member_best_epochs: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (weights left out)."""
        return {
            "index": self.index, "metrics": self.metrics,
            "best_epoch": self.best_epoch,
            "member_best_epochs": self.member_best_epochs,
            "history": self.history,
            "test_index": self.test_index, "y_true": self.y_true,
            "scores": self.scores,
        }


@dataclass
class CVResult:
    """What :func:`cross_validate` returns.

    Attributes:
        folds (list[CVFold]): per-fold results.
        summary (dict): :func:`~gnnkit.evaluate.metrics.summarize_folds`
            of the fold metrics (means over defined folds only).
        model_config (dict): ``build_model(**model_config)`` rebuilds the
            architecture of every fold; for an ensemble of backbones it
            is the :class:`~gnnkit.models.ensemble.Ensemble` config
            (``name`` such as ``"gin+mlp"``, ``task``, ``members``: one
            ``build_model`` config per backbone).
        train_config (dict): the training settings used.
        dataset (str): dataset name.
        task (str): ``"classification"`` or ``"regression"``.
        seed (int): seed of the fold split.
        repeats (int): times each backbone is trained per fold; all
            models of a fold are averaged.
    """

    folds: list[CVFold]
    summary: dict[str, Any]
    model_config: dict[str, Any]
    train_config: dict[str, Any]
    dataset: str
    task: str
    seed: int
    repeats: int = 1

    def model(self, fold: int) -> GraphModel | Ensemble:
        """The trained model of one fold, in eval mode: an
        :class:`~gnnkit.models.ensemble.Ensemble` of the fold's members
        when it trained several."""
        chosen = self.folds[fold]
        configs = member_configs(self.model_config)
        models = []
        for k, state in enumerate(chosen.member_states
                                  or [chosen.state_dict]):
            models.append(build_model(**configs[k % len(configs)]))
            models[-1].load_state_dict(state)
        return combine(models, self.task).eval()

    def pooled_roc_auc(self) -> float | None:
        """ROC-AUC over the test predictions of all folds together."""
        if self.task != "classification":
            return None
        return pooled_roc_auc([f.y_true for f in self.folds],
                              [f.scores for f in self.folds])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (weights left out)."""
        return {
            "dataset": self.dataset, "task": self.task, "seed": self.seed,
            "repeats": self.repeats,
            "model_config": self.model_config,
            "train_config": self.train_config, "summary": self.summary,
            "pooled_roc_auc": self.pooled_roc_auc(),
            "folds": [f.to_dict() for f in self.folds],
        }

    def __repr__(self) -> str:
        key = "accuracy" if self.task == "classification" else "rmse"
        s = self.summary.get(key, {})
        mean = "n/a" if s.get("mean") is None else \
            f"{s['mean']:.4f} ± {s['std']:.4f}"
        return (f"CVResult(dataset={self.dataset!r}, "
                f"model={self.model_config['name']!r}, "
                f"folds={len(self.folds)}, {key}={mean})")


def cross_validate(
    dataset: GraphDataset,
    model: str = "gin",
    *,
    folds: int = 10,
    seed: int = 0,
    train_config: TrainConfig | None = None,
    model_kwargs: dict[str, Any] | None = None,
    val_fraction: float = 0.1,
    repeats: int = 1,
    progress_bar: bool = True,
    callbacks: Sequence[Callback] = (),
) -> CVResult:
    """K-fold cross-validation of a graph-level model.

    Args:
        dataset (GraphDataset): a graph-level dataset (classification or
            regression).
        model (str): backbone name for
            :func:`~gnnkit.models.backbones.build_model`, or names joined
            by ``+`` (e.g. ``"gin+mlp"``): an ensemble whose backbones
            each train on every inner split, the fold scoring their mean
            class probabilities. (default: ``"gin"``)
        folds (int): outer folds, stratified by class. (default: ``10``)
        seed (int): seed of the splits; member ``r`` of fold ``i``
            draws its inner split, initialises and trains with
            ``seed + r * folds + i``. (default: ``0``)
        train_config (TrainConfig, optional): default: :data:`CV_TRAIN`
            (150 epochs, patience 50, lr 1e-2, batch 32).
        model_kwargs (dict, optional): extra ``build_model`` arguments
            for every backbone, over the defaults in :data:`CV_MODEL`.
        val_fraction (float): share of each training part held out for
            early stopping. (default: ``0.1``)
        repeats (int): times each backbone trains per fold, each repeat
            with its own seed and inner validation split; the fold is
            scored on the mean class probabilities of all models (mean
            prediction for regression). The test part still plays no part
            in training or selection. (default: ``1``)
        progress_bar (bool): show a bar over folds. (default: ``True``)
        callbacks (sequence): passed on to every :func:`fit`.

    Returns:
        CVResult: per-fold metrics, histories and predictions, and the
        summary over folds.

    Raises:
        ValueError: for a node-level dataset, ``repeats < 1`` or an
            unknown backbone.

    Example:
        >>> result = cross_validate(load_dataset("MUTAG"), "gin")
        >>> result.summary["accuracy"]["mean"]
    """
    if dataset.level != "graph":
        raise ValueError(
            f"cross_validate() needs a graph-level dataset (got level="
            f"{dataset.level!r} for {dataset.name!r}); use NodeTask with "
            "per_class_split() or random_split() for node tasks."
        )
    check_repeats(repeats)
    config = train_config or TrainConfig(**CV_TRAIN)
    config = dataclasses.replace(config, progress_bar=False)
    model_config = cv_model_config(dataset, model, model_kwargs)
    splits = stratified_kfold(dataset.y, folds=folds, seed=seed)
    bar = tqdm(splits, desc=f"CV {dataset.name} {model_config['name']}",
               disable=not progress_bar)
    results = []
    for i, (train_index, test_index) in enumerate(bar):
        seeds = [seed + r * folds + i for r in range(repeats)]
        results.append(_run_fold(dataset, i, train_index, test_index,
                                 model_config, config, seeds, val_fraction,
                                 callbacks))
        _report(bar, results[-1], dataset.task)
    return CVResult(
        folds=results, summary=summarize_folds([f.metrics for f in results]),
        model_config=model_config, train_config=config.to_dict(),
        dataset=dataset.name, task=dataset.task, seed=seed,
        repeats=repeats,
    )


def check_repeats(repeats: Any) -> None:
    """Raise ``ValueError`` unless ``repeats`` is an integer >= 1."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) \
            or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1 (got {repeats!r}).")


def backbone_names(model: str) -> list[str]:
    """``"gin+mlp"`` -> ``["gin", "mlp"]``, each checked to be a backbone.

    Raises:
        ValueError: naming an unknown or empty part.
    """
    names = [part.strip().lower() for part in str(model).split("+")]
    for name in names:
        if name not in MODELS:
            raise ValueError(
                f"unknown backbone {name!r} in model {model!r}; use one "
                f"of {sorted(MODELS)}, or several joined by '+' (e.g. "
                "'gin+mlp') for an ensemble."
            )
    return names


def cv_model_config(
    dataset: GraphDataset, model: str, model_kwargs: dict | None = None
) -> dict[str, Any]:
    """The config :func:`cross_validate` builds ``model`` from: a
    ``build_model`` config over :data:`CV_MODEL`, or for ``"a+b"`` the
    :class:`~gnnkit.models.ensemble.Ensemble` config of one per
    backbone."""
    configs = []
    for name in backbone_names(model):
        kwargs = {**CV_MODEL.get(name, {}), **(model_kwargs or {})}
        configs.append(build_model(name, dataset.num_features,
                                   dataset.num_classes, level="graph",
                                   **kwargs).config)
    if len(configs) == 1:
        return configs[0]
    return {"name": "+".join(c["name"] for c in configs),
            "task": dataset.task, "members": configs}


def member_configs(model_config: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``build_model`` configs of a (possibly ensemble) model config."""
    return list(model_config.get("members") or [model_config])


def combine(models: list[GraphModel], task: str) -> GraphModel | Ensemble:
    """One model as it is, several as their :class:`Ensemble`."""
    return models[0] if len(models) == 1 else Ensemble(models, task)


def train_members(
    dataset: GraphDataset,
    train_index: torch.Tensor,
    model_config: dict[str, Any],
    config: TrainConfig,
    seeds: Sequence[int],
    val_fraction: float = 0.1,
    callbacks: Sequence[Callback] = (),
) -> tuple[list[GraphModel], list[FitResult], TargetScaler | None]:
    """Train every backbone of ``model_config`` once per seed, each on an
    inner split of ``train_index`` drawn with that seed.

    Returns:
        tuple: the models (seed by seed, backbones in order within a
        seed), their fit results, and the regression target scaler they
        share (``None`` for classification).
    """
    models, fits, scaler = [], [], None
    for member_seed in seeds:
        for member_config in member_configs(model_config):
            model, result, scaler = _train_member(
                dataset, train_index, member_config, config, member_seed,
                val_fraction, callbacks, scaler)
            models.append(model)
            fits.append(result)
    return models, fits, scaler


def _run_fold(dataset, i, train_index, test_index, model_config, config,
              seeds, val_fraction, callbacks) -> CVFold:
    models, fits, scaler = train_members(
        dataset, train_index, model_config, config, seeds, val_fraction,
        callbacks)
    model = combine(models, dataset.task)
    y_true, scores, metrics = _test(model, dataset, test_index, scaler)
    logger.info("Fold %d: %s", i, {k: v for k, v in metrics.items()
                                   if isinstance(v, float)})
    states = [{k: v.clone() for k, v in m.state_dict().items()}
              for m in models]
    return CVFold(
        index=i, metrics=metrics, history=fits[0].history,
        test_index=test_index.tolist(), y_true=y_true, scores=scores,
        best_epoch=fits[0].best_epoch, state_dict=states[0],
        target_scaler=scaler,
        member_states=states if len(states) > 1 else [],
        member_best_epochs=[f.best_epoch for f in fits],
    )


def _train_member(dataset, train_index, model_config, config, seed,
                  val_fraction, callbacks, scaler):
    """Train one model on an inner split of ``train_index``; members of a
    fold share the first one's regression scaler so outputs average."""
    inner, val = inner_validation_split(train_index, dataset.y,
                                        fraction=val_fraction, seed=seed)
    task = GraphTask(dataset.subset(inner).graphs,
                     dataset.subset(val).graphs, task=dataset.task,
                     batch_size=config.batch_size, target_scaler=scaler)
    torch.manual_seed(seed)
    model = build_model(**model_config)
    fold_config = dataclasses.replace(config, seed=seed)
    result = fit(model, task, fold_config, callbacks=callbacks)
    return model, result, task.target_scaler


def _test(model, dataset, test_index, scaler):
    test = dataset.subset(test_index)
    out = predict(model, test.graphs)
    y = test.y
    if dataset.task == "classification":
        probs = out.softmax(-1)
        metrics = classification_metrics(y, probs,
                                         num_classes=dataset.num_classes)
        return y.tolist(), probs.tolist(), metrics
    pred = scaler.inverse_transform(out).view(y.shape)
    return y.tolist(), pred.tolist(), regression_metrics(y, pred)


def _report(bar, fold: CVFold, task: str) -> None:
    key = "accuracy" if task == "classification" else "rmse"
    bar.set_postfix({key: f"{fold.metrics[key]:.4f}"})
