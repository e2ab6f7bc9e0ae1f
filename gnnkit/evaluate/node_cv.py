"""Cross-validation of node-level models on one graph.

The labelled nodes are split into stratified outer folds. Each fold
trains on the whole graph (its edges and every node's features, as in
transductive node classification) with the loss on its training nodes,
early-stops on a stratified validation part of those training nodes, and
scores its test nodes once, after training. The results come back as a
:class:`~gnnkit.evaluate.cv.CVResult`, the same shape as graph-level
cross-validation, and
:func:`~gnnkit.evaluate.experiment.run_experiment` uses it for node-level
data.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import torch
from tqdm.auto import tqdm

from gnnkit.data.dataset import GraphDataset
from gnnkit.evaluate.cv import CVFold, CVResult
from gnnkit.evaluate.metrics import (
    classification_metrics,
    regression_metrics,
    summarize_folds,
)
from gnnkit.evaluate.splits import inner_validation_split, stratified_kfold
from gnnkit.models.backbones import build_model
from gnnkit.models.base import GraphModel
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import Callback, FitResult, fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import NodeTask

#: Training defaults of :func:`cross_validate_nodes` (full batch).
NODE_TRAIN = dict(epochs=150, patience=50, lr=1e-2, weight_decay=5e-4,
                  schedule="constant")
#: Model defaults of :func:`cross_validate_nodes`.
NODE_MODEL = dict(num_layers=2, dropout=0.5)
#: Share of each fold's training nodes held out for early stopping.
NODE_VAL_FRACTION = 0.2


def labelled_nodes(dataset: GraphDataset) -> torch.Tensor:
    """Positions of the nodes with a usable target (class id >= 0 or a
    finite value)."""
    y = dataset.y.view(len(dataset.y), -1)[:, 0]
    if dataset.task == "classification":
        keep = y >= 0
    else:
        keep = torch.isfinite(y.float())
    return keep.nonzero().view(-1)


def cross_validate_nodes(
    dataset: GraphDataset,
    model: str = "gcn",
    *,
    folds: int = 10,
    seed: int = 0,
    train_config: TrainConfig | None = None,
    model_kwargs: dict[str, Any] | None = None,
    val_fraction: float = NODE_VAL_FRACTION,
    progress_bar: bool = True,
    callbacks: Sequence[Callback] = (),
) -> CVResult:
    """K-fold cross-validation over the labelled nodes of one graph.

    Args:
        dataset (GraphDataset): a node-level dataset.
        model (str): backbone name (``"mlp"`` ignores the edges).
            (default: ``"gcn"``)
        folds (int): outer folds, stratified by class. (default: ``10``)
        seed (int): seed of the folds; fold ``i`` draws its inner split,
            initialises and trains with ``seed + i``. (default: ``0``)
        train_config (TrainConfig, optional): default: :data:`NODE_TRAIN`.
        model_kwargs (dict, optional): ``build_model`` arguments over
            :data:`NODE_MODEL`.
        val_fraction (float): share of each fold's training nodes held
            out for early stopping. (default: ``0.2``)
        progress_bar (bool): show a bar over folds. (default: ``True``)
        callbacks (sequence): passed on to every :func:`fit`.

    Returns:
        CVResult: per-fold metrics (``test_index`` holds node positions)
        and the summary over folds; ``train_config`` records
        ``val_fraction``.

    Raises:
        ValueError: for a graph-level dataset.
    """
    if dataset.level != "node":
        raise ValueError(
            f"cross_validate_nodes() needs a node-level dataset (got level="
            f"{dataset.level!r} for {dataset.name!r}); use cross_validate()."
        )
    config = dataclasses.replace(train_config or TrainConfig(**NODE_TRAIN),
                                 progress_bar=False)
    model_config = node_model_config(dataset, model, model_kwargs)
    labelled = labelled_nodes(dataset)
    splits = stratified_kfold(dataset.y[labelled], folds=folds, seed=seed)
    bar = tqdm(splits, desc=f"CV {dataset.name} {model_config['name']}",
               disable=not progress_bar)
    results = []
    for i, (train_part, test_part) in enumerate(bar):
        results.append(_run_fold(
            dataset, i, labelled[train_part], labelled[test_part],
            model_config, config, seed + i, val_fraction, callbacks))
        key = "accuracy" if dataset.task == "classification" else "rmse"
        bar.set_postfix({key: f"{results[-1].metrics[key]:.4f}"})
    return CVResult(
        folds=results, summary=summarize_folds([f.metrics for f in results]),
        model_config=model_config,
        train_config={**config.to_dict(), "val_fraction": val_fraction},
        dataset=dataset.name, task=dataset.task, seed=seed,
    )


def node_model_config(dataset: GraphDataset, model: str,
                      model_kwargs: dict | None) -> dict[str, Any]:
    """The ``build_model`` config of a node-level backbone."""
    kwargs = {**NODE_MODEL, **(model_kwargs or {})}
    return build_model(model, dataset.num_features, dataset.num_classes,
                       level="node", **kwargs).config


def _run_fold(dataset, i, train_index, test_index, model_config, config,
              seed, val_fraction, callbacks) -> CVFold:
    model, result, task = train_nodes(dataset, train_index, model_config,
                                      config, seed, val_fraction, callbacks)
    out = predict(model, dataset.graphs[0])[test_index]
    y = dataset.y[test_index]
    if dataset.task == "classification":
        scores = out.softmax(-1)
        metrics = classification_metrics(y, scores,
                                         num_classes=dataset.num_classes)
    else:
        scores = task.target_scaler.inverse_transform(out).view(y.shape)
        metrics = regression_metrics(y, scores)
    return CVFold(
        index=i, metrics=metrics, history=result.history,
        test_index=test_index.tolist(), y_true=y.tolist(),
        scores=scores.tolist(), best_epoch=result.best_epoch,
        state_dict={k: v.clone() for k, v in model.state_dict().items()},
        target_scaler=task.target_scaler,
    )


def train_nodes(
    dataset: GraphDataset,
    train_index: torch.Tensor,
    model_config: dict[str, Any],
    config: TrainConfig,
    seed: int,
    val_fraction: float = NODE_VAL_FRACTION,
    callbacks: Sequence[Callback] = (),
) -> tuple[GraphModel, FitResult, NodeTask]:
    """Train one node model on ``train_index``, early-stopping on a
    stratified ``val_fraction`` of it; no other node's label is read."""
    inner, val = inner_validation_split(train_index, dataset.y,
                                        fraction=val_fraction, seed=seed)
    task = NodeTask(_with_placeholder_targets(dataset), inner, val,
                    task=dataset.task)
    torch.manual_seed(seed)
    model = build_model(**model_config)
    result = fit(model, task, dataclasses.replace(config, seed=seed),
                 callbacks=callbacks)
    model.target_scaler = task.target_scaler
    return model.eval(), result, task


def _with_placeholder_targets(dataset: GraphDataset):
    """The graph, with class 0 standing in for unlabelled nodes (``-1``)
    so the task accepts it; only the train and validation nodes'
    targets are ever read, and those are labelled."""
    graph = dataset.graphs[0]
    if dataset.task != "classification" or int(graph.y.min()) >= 0:
        return graph
    graph = graph.clone()
    graph.y = graph.y.clamp(min=0)
    return graph
