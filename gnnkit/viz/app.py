"""The glue behind the dashboards: a few settings (dataset, model, LM
strategy, learning rates, epochs) become a split dataset, a model, a task
and a :class:`~gnnkit.train.config.TrainConfig` that ``fit`` runs."""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
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
            features) or, for node-level datasets, a joint LM+GNN strategy:
            ``"frozen"``, ``"top-2"``, ``"full"``, ``"lora"`` or
            ``"prefix"``. (default: ``"none"``)
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
        lm_path (str, optional): the language model folder or Hub name
            (default: the shipped all-MiniLM-L6-v2).
        max_length (int): tokens kept per node text. (default: ``64``)
        steps_per_epoch (int, optional): cap on the sampled training
            steps per epoch of joint strategies. (default: ``8``)
        cache (bool or str): on-disk embedding cache of ``"cascade"``
            (``True``: ``.gnnkit_cache/``; a folder; ``False``: none).
            (default: ``True``)
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
    lm_path: str | None = None
    max_length: int = 64
    steps_per_epoch: int | None = 8
    cache: bool | str = True


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


def lm_strategies(dataset: GraphDataset) -> list[str]:
    """The LM strategies that make sense for ``dataset``.

    ``["none"]`` without node texts; otherwise ``"cascade"`` first (frozen
    LM features, the cheap default), ``"none"`` and, for node-level
    datasets, the joint LM+GNN strategies of
    :class:`~gnnkit.models.fusion.LMGNN`.
    """
    if dataset.texts is None:
        return list(NO_TEXT)
    joint = JOINT_STRATEGIES if dataset.level == "node" else ()
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
    if strategy != "cascade":
        return _prepare_gnn(settings, dataset)
    encoder = _encoder(settings)
    run = _prepare_gnn(settings, _encoded(dataset, encoder, settings))
    run.extra["encoder"] = encoder
    return run


def _prepare_gnn(settings: RunSettings, dataset: GraphDataset) -> PreparedRun:
    train, val = split(dataset, settings.val_fraction, settings.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
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


def _encoder(settings: RunSettings) -> Any:
    from gnnkit.text.encoder import TextEncoder

    return TextEncoder(settings.lm_path, max_length=settings.max_length)


def _encoded(dataset: GraphDataset, encoder: Any,
             settings: RunSettings) -> GraphDataset:
    """``dataset`` with frozen-LM embeddings of its texts as features."""
    from gnnkit.text.encoder import encode_dataset

    return encode_dataset(dataset, encoder,
                          cache=settings.cache or None, progress_bar=False,
                          missing="empty")


def _prepare_joint(settings: RunSettings,
                   dataset: GraphDataset) -> PreparedRun:
    """An LM+GNN trained end to end on sampled subgraphs."""
    from gnnkit.models.fusion import LMGNN
    from gnnkit.train.joint import JointNodeTask, JointSettings

    train, val = split(dataset, settings.val_fraction, settings.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings.seed)
        model = LMGNN(
            _encoder(settings), dataset.num_classes, gnn=settings.model,
            hidden_channels=settings.hidden_channels,
            num_layers=settings.num_layers, strategy=settings.lm_strategy,
            classes=dataset.classes,
        )  # fmt: skip
    joint = JointSettings(
        max_length=settings.max_length, batch_size=settings.batch_size,
        steps_per_epoch=settings.steps_per_epoch, epochs=settings.epochs,
        lm_lr=settings.lm_lr, gnn_lr=settings.lr,
    )  # fmt: skip
    graph = dataset.graphs[0]
    task = JointNodeTask(
        graph, [t or "" for t in dataset.texts[0]], train, val,
        encoder=model.encoder, node_ids=dataset.node_ids[0],
        num_neighbors=joint.num_neighbors, batch_size=joint.batch_size,
        steps_per_epoch=joint.steps_per_epoch,
    )  # fmt: skip
    config = joint.train_config(model, seed=settings.seed)
    return PreparedRun(dataset, model, task, config, train, val,
                       {"joint": joint})


# -- the explanation explorer's computations -------------------------------
def explainable(run: PreparedRun) -> tuple[nn.Module, GraphDataset, Any]:
    """The GNN, the dataset its features come from and the text encoder
    (or ``None``) of a run, ready for :mod:`gnnkit.explain`.

    A joint LM+GNN model is split: its GNN explained on the LM embeddings
    of every node text, its encoder kept for the word view.
    """
    model = run.model
    if not hasattr(model, "embed_texts"):
        return model, run.dataset, run.extra.get("encoder")
    task = run.task
    with torch.no_grad():
        x = model.embed_texts(task.input_ids, task.attention_mask)
    dataset = copy.copy(run.dataset)
    dataset.graphs = [run.dataset.graphs[0].clone()]
    dataset.graphs[0].x = x  # [num_nodes, lm width]
    return model.gnn, dataset, model.encoder


def item_choices(dataset: GraphDataset, items: Sequence[Any] | None = None,
                 limit: int = 200) -> list[tuple[str, Any]]:
    """Dropdown options ``(label, value)``: graph positions or node ids.

    Args:
        dataset (GraphDataset): the dataset.
        items (sequence, optional): graph positions (graph level) or node
            positions (node level) to offer (default: the first ``limit``).
        limit (int): most items offered by default. (default: ``200``)
    """
    y = dataset.y
    count = len(y)
    items = list(range(min(count, limit))) if items is None else \
        [int(i) for i in items]
    names = dataset.classes or None
    ids = dataset.graph_ids if dataset.level == "graph" \
        else dataset.node_ids[0]

    def label(i: int) -> str:
        value = names[int(y[i])] if names else f"{float(y[i]):.3g}"
        return f"{dataset.level} {ids[i]} (label {value})"

    if dataset.level == "graph":
        return [(label(i), i) for i in items]
    return [(label(i), ids[i]) for i in items]


def explain_item(model: nn.Module, dataset: GraphDataset, item: Any,
                 method: str, n_steps: int = 32) -> Any:
    """:func:`~gnnkit.explain.attributions.explain_graph` (graph position)
    or :func:`~gnnkit.explain.attributions.explain_node` (node id)."""
    from gnnkit.explain.attributions import explain_graph, explain_node

    if dataset.level == "graph":
        return explain_graph(model, dataset, item, method=method,
                             n_steps=n_steps)
    return explain_node(model, dataset, item, method=method,
                        n_steps=n_steps)


def has_attention(model: nn.Module) -> bool:
    """Whether the model has GAT-style attention layers."""
    from torch_geometric.nn import GATConv, GATv2Conv

    return any(isinstance(m, (GATConv, GATv2Conv)) for m in model.modules())


def item_attention(model: nn.Module, dataset: GraphDataset,
                   item: Any) -> list[Any]:
    """GAT attention per layer for a graph, or for a node's receptive field
    (computed on the whole graph, then cut to the node's k-hop nodes)."""
    from torch_geometric.utils import k_hop_subgraph

    from gnnkit.explain.attention import gat_attention

    if dataset.level == "graph":
        return gat_attention(model, dataset, item)
    layers = gat_attention(model, dataset)
    graph, ids = dataset.graphs[0], dataset.node_ids[0]
    subset, *_ = k_hop_subgraph(ids.index(item), len(layers),
                                graph.edge_index, num_nodes=graph.num_nodes)
    return [crop_attention(layer, subset) for layer in layers]


def crop_attention(layer: Any, subset: Tensor) -> Any:
    """``layer``'s attention among the nodes ``subset`` only (relabelled
    to positions in ``subset``)."""
    new = torch.full((len(layer.node_ids),), -1, dtype=torch.long)
    new[subset] = torch.arange(subset.numel())
    keep = (new[layer.edge_index] >= 0).all(dim=0)
    loops = new[layer.loop_nodes] >= 0
    return dataclasses.replace(
        layer, edge_index=new[layer.edge_index[:, keep]],
        alpha=layer.alpha[keep], user_loop=layer.user_loop[keep],
        loop_nodes=new[layer.loop_nodes[loops]],
        loop_alpha=layer.loop_alpha[loops],
        node_ids=[layer.node_ids[i] for i in subset.tolist()],
    )  # fmt: skip


def head_view(layer: Any, head: str | int) -> Any:
    """``layer`` with one column of attention: head ``head``, or the
    ``"mean"``/``"max"`` over heads."""
    from gnnkit.explain.attention import reduce_heads

    def pick(alpha: Tensor) -> Tensor:
        if isinstance(head, int):
            return alpha[:, [head]]
        return reduce_heads(alpha, head).view(-1, 1)

    return dataclasses.replace(layer, alpha=pick(layer.alpha),
                               loop_alpha=pick(layer.loop_alpha))


def item_words(model: nn.Module, dataset: GraphDataset, item: Any,
               encoder: Any, max_texts: int = 3, n_steps: int = 16) -> Any:
    """Which words of the node's and its neighbours' texts mattered
    (:func:`~gnnkit.explain.words.explain_words`), or ``None`` when the
    dataset has no node texts or no encoder is given."""
    from gnnkit.explain.words import explain_words

    if dataset.level != "node" or dataset.texts is None or encoder is None:
        return None
    return explain_words(encoder, model, dataset.graphs[0],
                         dataset.texts[0], item,
                         node_ids=dataset.node_ids[0], max_texts=max_texts,
                         n_steps=n_steps)
