"""The glue behind the dashboards: a few settings (dataset, model, LM
strategy, learning rates, epochs) become a split dataset, a model, a task
and a :class:`~gnnkit.train.config.TrainConfig` that ``fit`` runs."""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.splits import random_split
from gnnkit.models.backbones import build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.tasks import GraphTask, NodeTask, Task

MODEL_CHOICES = (
    ("GIN", "gin"), ("GCN", "gcn"), ("GAT", "gat"),
    ("GraphSAGE", "sage"), ("MLP (no edges)", "mlp"),
)  # fmt: skip
NO_TEXT = ("none",)
TEXT_PATHS = ("cascade",)
JOINT_STRATEGIES = ("frozen", "top-2", "full", "lora", "prefix")


@dataclass
class RunSettings:
    """What a dashboard run trains.

    Args:
        dataset (str): a shipped dataset name (see
            :func:`~gnnkit.data.shipped.list_datasets`).
        model (str): ``"gin"``, ``"gcn"``, ``"gat"``, ``"sage"`` or
            ``"mlp"``. (default: ``"gin"``)
        lm_strategy (str): ``"none"`` (the dataset's own features),
            ``"cascade"`` (frozen LM embeddings of the node texts as
            features) or a joint strategy such as ``"lora"`` when
            :mod:`gnnkit.models.fusion` is installed. (default: ``"none"``)
        lr (float): GNN learning rate. (default: ``1e-2``)
        lm_lr (float): LM learning rate of joint strategies.
            (default: ``2e-5``)
        epochs (int): epochs to train. (default: ``20``)
        hidden_channels (int): GNN width. (default: ``32``)
        num_layers (int): message-passing layers. (default: ``3``)
        batch_size (int): graphs per batch. (default: ``32``)
        val_fraction (float): share of graphs (or nodes) held out to pick
            the best epoch. (default: ``0.2``)
        seed (int): split and training seed. (default: ``0``)
    """

    dataset: str = "MUTAG"
    model: str = "gin"
    lm_strategy: str = "none"
    lr: float = 1e-2
    lm_lr: float = 2e-5
    epochs: int = 20
    hidden_channels: int = 32
    num_layers: int = 3
    batch_size: int = 32
    val_fraction: float = 0.2
    seed: int = 0


@dataclass
class PreparedRun:
    """Everything ``fit`` needs, plus the split it was made from."""

    dataset: GraphDataset
    model: nn.Module
    task: Task
    config: TrainConfig
    train_index: Tensor
    val_index: Tensor
    extra: dict[str, Any] = field(default_factory=dict)


@functools.lru_cache(maxsize=8)
def cached_dataset(name: str) -> GraphDataset:
    """A shipped dataset, read once per session."""
    return load_dataset(name)


def has_fusion() -> bool:
    """Whether the joint LM+GNN module :mod:`gnnkit.models.fusion` exists."""
    return importlib.util.find_spec("gnnkit.models.fusion") is not None


def lm_strategies(dataset: GraphDataset) -> list[str]:
    """The LM strategies that make sense for ``dataset``.

    ``["none"]`` without node texts; otherwise ``"cascade"`` first (frozen
    LM features, the cheap default), ``"none"`` and, when the fusion
    module exists, the joint strategies.
    """
    if dataset.texts is None:
        return list(NO_TEXT)
    joint = list(JOINT_STRATEGIES) if has_fusion() else []
    return [*TEXT_PATHS, *NO_TEXT, *joint]


def split(dataset: GraphDataset, fraction: float,
          seed: int) -> tuple[Tensor, Tensor]:
    """Train and validation indices (graphs, or nodes of the one graph),
    stratified by class for classification."""
    y = dataset.y
    stratify = None if dataset.classes is None else y
    train, val = random_split(len(y), (1 - fraction, fraction), seed=seed,
                              stratify=stratify)
    return train, val


def prepare_run(
    settings: RunSettings, dataset: GraphDataset | None = None
) -> PreparedRun:
    """Load, split and build what :func:`~gnnkit.train.fit.fit` runs.

    Args:
        settings (RunSettings): the choices.
        dataset (GraphDataset, optional): use this dataset instead of
            loading ``settings.dataset``.

    Raises:
        ValueError: for a strategy the dataset cannot use (e.g. an LM
            strategy without node texts).
    """
    dataset = dataset or cached_dataset(settings.dataset)
    strategy = settings.lm_strategy
    if strategy not in lm_strategies(dataset):
        raise ValueError(
            f"LM strategy {strategy!r} does not apply to dataset "
            f"'{dataset.name}'; choose one of {lm_strategies(dataset)}."
        )
    if strategy in JOINT_STRATEGIES:
        return _prepare_joint(settings, dataset)
    if strategy == "cascade":
        dataset = _encoded(dataset)
    return _prepare_gnn(settings, dataset)


def _prepare_gnn(settings: RunSettings, dataset: GraphDataset) -> PreparedRun:
    train, val = split(dataset, settings.val_fraction, settings.seed)
    model = build_model(
        settings.model, dataset.num_features, dataset.num_classes,
        level=dataset.level, hidden_channels=settings.hidden_channels,
        num_layers=settings.num_layers,
    )  # fmt: skip
    config = TrainConfig(
        lr=settings.lr, epochs=settings.epochs, seed=settings.seed,
        batch_size=settings.batch_size, progress_bar=False,
    )  # fmt: skip
    return PreparedRun(dataset, model, _task(dataset, train, val, settings),
                       config, train, val)


def _task(dataset: GraphDataset, train: Tensor, val: Tensor,
          settings: RunSettings) -> Task:
    if dataset.level == "node":
        return NodeTask(dataset.graphs[0], train, val, task=dataset.task)
    return GraphTask(
        [dataset.graphs[i] for i in train], [dataset.graphs[i] for i in val],
        task=dataset.task, batch_size=settings.batch_size,
    )  # fmt: skip


@functools.lru_cache(maxsize=4)
def _encoded_by_name(name: str) -> GraphDataset:
    from gnnkit.text.encoder import encode_dataset

    return encode_dataset(cached_dataset(name), cache=True,
                          progress_bar=False)


def _encoded(dataset: GraphDataset) -> GraphDataset:
    """``dataset`` with frozen-LM node features (cached on disk)."""
    from gnnkit.data.shipped import list_datasets
    from gnnkit.text.encoder import encode_dataset

    if dataset.name in list_datasets() and \
            dataset is cached_dataset(dataset.name):
        return _encoded_by_name(dataset.name)
    return encode_dataset(dataset, cache=True, progress_bar=False)


def _prepare_joint(settings: RunSettings,
                   dataset: GraphDataset) -> PreparedRun:
    raise NotImplementedError
