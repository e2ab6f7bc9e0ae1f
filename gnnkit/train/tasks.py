"""What :func:`~gnnkit.train.fit.fit` trains on: a task yields batches,
turns a batch into a loss and scores the model on validation data.

A new task subclasses :class:`Task` and fills in ``train_batches``,
``loss`` and ``validate``; ``monitor`` and ``mode`` name the validation
metric that selects the best epoch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.errors import DataError, ModelError
from gnnkit.models.inputs import edge_inputs
from gnnkit.train.batching import GraphBatch, PackedGraphs

KINDS = ("classification", "regression")


class Task(ABC):
    """Base class of everything :func:`~gnnkit.train.fit.fit` can drive.

    Attributes:
        monitor (str): history key selecting the best epoch, e.g.
            ``"val_accuracy"``; :meth:`validate` returns it without the
            ``"val_"`` prefix.
        mode (str): ``"max"`` if larger ``monitor`` values are better,
            ``"min"`` otherwise.
    """

    monitor: str = "val_loss"
    mode: str = "min"

    @abstractmethod
    def train_batches(self, generator: torch.Generator) -> Iterable[Any]:
        """The batches of one epoch, shuffled with ``generator``."""

    @abstractmethod
    def loss(self, model: nn.Module, batch: Any) -> Tensor:
        """The scalar training loss of ``model`` on ``batch``."""

    @abstractmethod
    def validate(self, model: nn.Module) -> dict[str, float]:
        """Metrics on the validation data, including ``"loss"``.

        :func:`fit` calls this in eval mode under ``torch.inference_mode``
        and stores each value as ``"val_<name>"`` in the history.
        """


class TargetScaler:
    """Standardises regression targets with the training mean and std.

    Args:
        mean (Tensor): per-target mean ``[T]``.
        std (Tensor): per-target standard deviation ``[T]``.
    """

    def __init__(self, mean: Tensor, std: Tensor) -> None:
        self.mean = mean.float()
        self.std = torch.where(std > 0, std, torch.ones_like(std)).float()

    @classmethod
    def fit(cls, y: Tensor) -> "TargetScaler":
        """Fit on targets ``[n, T]`` (or ``[n]``)."""
        y = y.float().view(y.size(0), -1)
        return cls(y.mean(0), y.std(0, unbiased=False))

    def transform(self, y: Tensor) -> Tensor:
        """Original units to standardised units."""
        return (y - self.mean) / self.std

    def inverse_transform(self, y: Tensor) -> Tensor:
        """Standardised units (model outputs) to original units."""
        return y * self.std + self.mean

    def to_dict(self) -> dict[str, list[float]]:
        """JSON-able form, for saving beside a model."""
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, list[float]]) -> "TargetScaler":
        """Rebuild from :meth:`to_dict`."""
        return cls(torch.tensor(state["mean"]), torch.tensor(state["std"]))

    def __repr__(self) -> str:
        return f"TargetScaler(mean={self.mean.tolist()}, " \
            f"std={self.std.tolist()})"


def forward_batch(model: nn.Module, batch: GraphBatch | Data) -> Tensor:
    """Call ``model`` on a batch, passing the edge inputs it declares it
    uses (:func:`~gnnkit.models.inputs.edge_inputs`), a
    :class:`GraphBatch`'s ``adjacency`` included."""
    inputs = edge_inputs(model, getattr(batch, "edge_attr", None),
                         getattr(batch, "edge_weight", None),
                         getattr(batch, "adjacency", None))
    return model(batch.x, batch.edge_index, getattr(batch, "batch", None),
                 num_graphs=getattr(batch, "num_graphs", None), **inputs)


class GraphTask(Task):
    """Graph classification or regression on mini-batches of graphs.

    The training graphs are packed once; each epoch draws shuffled
    mini-batches by tensor indexing instead of re-collating ``Data``
    objects, and validation runs on batches collated once.

    Args:
        train_graphs (list[Data]): training graphs (``y`` of shape
            ``[1]`` or ``[1, T]``); a ``GraphDataset`` works too.
        val_graphs (list[Data]): validation graphs.
        task (str): ``"classification"`` (cross-entropy, monitor
            ``val_accuracy``) or ``"regression"`` (MSE on standardised
            targets, monitor ``val_rmse`` in original units).
        batch_size (int): graphs per training batch. (default: ``32``)
        target_scaler (TargetScaler, optional): regression scaler
            (default: fitted on ``train_graphs``).

    Raises:
        DataError: when graphs lack ``x`` or ``y`` or the targets do not
            fit the task.
    """

    def __init__(
        self,
        train_graphs: Sequence[Data],
        val_graphs: Sequence[Data],
        *,
        task: str = "classification",
        batch_size: int = 32,
        target_scaler: TargetScaler | None = None,
    ) -> None:
        self.kind = _check_kind(task)
        self.batch_size = int(batch_size)
        self.train = PackedGraphs(_graphs(train_graphs), "train_graphs")
        self.val = PackedGraphs(_graphs(val_graphs), "val_graphs")
        self.target_scaler = None
        if self.kind == "regression":
            self.target_scaler = target_scaler or TargetScaler.fit(
                self.train.y)
            self.monitor, self.mode = "val_rmse", "min"
        else:
            _check_class_targets(self.train.y, "train_graphs")
            _check_class_targets(self.val.y, "val_graphs")
            self.monitor, self.mode = "val_accuracy", "max"
        self.val_batches = self.val.chunks(512)

    def __repr__(self) -> str:
        return (f"GraphTask(task={self.kind!r}, "
                f"train_graphs={self.train.num_graphs}, "
                f"val_graphs={self.val.num_graphs}, "
                f"batch_size={self.batch_size})")

    def train_batches(self, generator: torch.Generator) -> list[GraphBatch]:
        """Shuffled mini-batches of ``batch_size`` training graphs."""
        order = torch.randperm(self.train.num_graphs, generator=generator)
        return self.train.batches(order, self.batch_size)

    def loss(self, model: nn.Module, batch: GraphBatch) -> Tensor:
        """Cross-entropy, or MSE on standardised targets."""
        return _loss(self, forward_batch(model, batch), batch.y)

    def validate(self, model: nn.Module) -> dict[str, float]:
        """``loss`` and ``accuracy`` (classification) or ``rmse`` and
        ``mae`` in original units (regression)."""
        out = torch.cat([forward_batch(model, b) for b in self.val_batches])
        return _metrics(self, out, self.val.y)


class NodeTask(Task):
    """Node classification or regression on one graph, full batch.

    Args:
        data (Data): the graph; ``y`` has one entry (or row) per node.
        train_index (Tensor): training nodes (indices or a bool mask).
        val_index (Tensor): validation nodes (indices or a bool mask).
        task (str): ``"classification"`` or ``"regression"``.
        target_scaler (TargetScaler, optional): regression scaler
            (default: fitted on the training nodes).
    """

    def __init__(
        self,
        data: Data,
        train_index: Tensor | Sequence[int],
        val_index: Tensor | Sequence[int],
        *,
        task: str = "classification",
        target_scaler: TargetScaler | None = None,
    ) -> None:
        self.kind = _check_kind(task)
        self.data = data
        self.train_index = _as_index(train_index, data.num_nodes)
        self.val_index = _as_index(val_index, data.num_nodes)
        if getattr(data, "y", None) is None:
            raise DataError("the graph has no node targets y.", field="y")
        self.target_scaler = None
        if self.kind == "regression":
            self.target_scaler = target_scaler or TargetScaler.fit(
                data.y[self.train_index])
            self.monitor, self.mode = "val_rmse", "min"
        else:
            _check_class_targets(data.y, "data")
            self.monitor, self.mode = "val_accuracy", "max"

    def __repr__(self) -> str:
        return (f"NodeTask(task={self.kind!r}, "
                f"num_nodes={self.data.num_nodes}, "
                f"train_nodes={self.train_index.numel()}, "
                f"val_nodes={self.val_index.numel()})")

    def train_batches(self, generator: torch.Generator) -> list[Data]:
        """One full-graph batch per epoch."""
        return [self.data]

    def loss(self, model: nn.Module, batch: Data) -> Tensor:
        """Loss over the training nodes."""
        out = forward_batch(model, batch)
        return _loss(self, out[self.train_index], batch.y[self.train_index])

    def validate(self, model: nn.Module) -> dict[str, float]:
        """Metrics over the validation nodes."""
        out = forward_batch(model, self.data)[self.val_index]
        return _metrics(self, out, self.data.y[self.val_index])


def _loss(task: GraphTask | NodeTask, out: Tensor, y: Tensor) -> Tensor:
    if getattr(task, "_checked_width", None) != out.size(-1):
        _check_width(task, out.size(-1))  # once per model width
    if task.kind == "classification":
        return F.cross_entropy(out, y.view(-1).long())
    target = task.target_scaler.transform(y.float().view(out.shape))
    return F.mse_loss(out, target)


def _check_width(task: GraphTask | NodeTask, width: int) -> None:
    if task.kind == "classification":
        y = task.data.y if isinstance(task, NodeTask) else torch.cat(
            [task.train.y.view(-1), task.val.y.view(-1)])
        need, what = int(y.max()) + 1 if y.numel() else 0, "classes"
    else:
        need, what = int(task.target_scaler.mean.numel()), "targets"
    if width != need and (what == "targets" or width < need):
        raise ModelError(
            f"the model gives {width} outputs but the {task.kind} targets "
            f"need {need} ({what}); build it with out_channels={need}."
        )
    task._checked_width = width


def _metrics(
    task: GraphTask | NodeTask, out: Tensor, y: Tensor
) -> dict[str, float]:
    loss = _loss(task, out, y)
    if task.kind == "classification":
        correct = (out.argmax(-1) == y.view(-1)).float().mean()
        return {"loss": float(loss), "accuracy": float(correct)}
    error = task.target_scaler.inverse_transform(out) - y.float().view(
        out.shape)
    return {"loss": float(loss), "rmse": float(error.pow(2).mean().sqrt()),
            "mae": float(error.abs().mean())}


def _check_kind(task: str) -> str:
    if task not in KINDS:
        raise ValueError(
            f"task must be 'classification' or 'regression' (got {task!r})."
        )
    return task


def _graphs(graphs: Any) -> list[Data]:
    return list(getattr(graphs, "graphs", graphs))


def _check_class_targets(y: Tensor, where: str) -> None:
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise DataError(
            f"{where}: classification needs integer class ids in y "
            "(got fractional values); use task='regression' for "
            "continuous targets.", field="y",
        )
    if y.numel() and int(y.min()) < 0:
        raise DataError(
            f"{where}: class ids in y must be >= 0 (got {int(y.min())}); "
            "re-index labels to 0..C-1.", field="y",
        )


def _as_index(index: Tensor | Sequence[int], num_nodes: int) -> Tensor:
    index = torch.as_tensor(index)
    if index.dtype == torch.bool:
        return index.nonzero().view(-1)
    return index.long().view(-1)
