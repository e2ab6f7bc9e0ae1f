"""Joint LM+GNN training on sampled subgraphs, driven by the one fit loop.

Each step samples neighbours around a batch of training nodes
(:mod:`gnnkit.train.neighbor_sampling`) and runs the LM only on texts of
that subgraph, so the cost per step is bounded whatever the graph size.
Validation encodes every text once, without gradients.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.utils import subgraph

from gnnkit.errors import DataError
from gnnkit.models.fusion import LMGNN
from gnnkit.text.encoder import TextEncoder
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import FitResult, fit
from gnnkit.train.neighbor_sampling import neighbor_ptr, sample_neighbors
from gnnkit.train.tasks import Task


class JointNodeTask(Task):
    """Node classification with an :class:`~gnnkit.models.fusion.LMGNN`.

    Texts are tokenized once (truncated to the encoder's ``max_length``,
    with one warning naming the cut nodes). Each training batch is the
    subgraph induced by ``batch_size`` shuffled training nodes and their
    sampled neighbours; the loss is taken on the batch's training nodes
    only. :meth:`validate` encodes every text without gradients and runs
    the GNN on the full graph.

    With ``neighbor_features="fresh"`` the LM encodes every sampled node
    at every step (exact). With ``"cached"`` it encodes only the batch's
    training nodes; their neighbours take their embeddings from a table
    filled by the last full encoding (at the start, then at every
    validation), the historical embeddings of GNNAutoScale (Fey et al.,
    2021). That cuts the LM work per step by the fan-out, at the price of
    neighbour features up to one epoch old.

    Args:
        data (Data): the graph (``edge_index``, ``y``; ``num_nodes``).
        texts (Sequence[str]): one text per node.
        train_index (Tensor or Sequence[int]): training nodes.
        val_index (Tensor or Sequence[int]): validation nodes.
        encoder (TextEncoder): the model's encoder (its tokenizer and
            maximum length are used).
        node_ids (Sequence, optional): ids naming nodes in warnings.
        num_neighbors (sequence of int): fan-out per hop.
            (default: ``(10, 5)``)
        batch_size (int): training nodes per step. (default: ``32``)
        steps_per_epoch (int, optional): cap on steps per epoch; each
            epoch then sees a fresh random part of the training nodes.
        eval_batch_size (int): texts per LM call when encoding all nodes.
            (default: ``64``)
        neighbor_features (str): ``"fresh"`` or ``"cached"``.
            (default: ``"cached"``)

    Raises:
        DataError: if the graph has no labels or the number of texts
            differs from the number of nodes.
    """

    monitor = "val_accuracy"
    mode = "max"

    def __init__(
        self,
        data: Data,
        texts: Sequence[str],
        train_index: Tensor | Sequence[int],
        val_index: Tensor | Sequence[int],
        *,
        encoder: TextEncoder,
        node_ids: Sequence[Any] | None = None,
        num_neighbors: Sequence[int] = (10, 5),
        batch_size: int = 32,
        steps_per_epoch: int | None = None,
        eval_batch_size: int = 64,
        neighbor_features: str = "cached",
    ) -> None:
        _check_graph(data, texts)
        if neighbor_features not in ("fresh", "cached"):
            raise ValueError(
                "neighbor_features must be 'fresh' or 'cached' (got "
                f"{neighbor_features!r})."
            )
        self.neighbor_features = neighbor_features
        self.table: Tensor | None = None
        self.data = data
        self.y = data.y.view(-1).long()
        self.train_index = torch.as_tensor(train_index).long().view(-1)
        self.val_index = torch.as_tensor(val_index).long().view(-1)
        self.num_neighbors = [int(k) for k in num_neighbors]
        self.batch_size = int(batch_size)
        self.steps_per_epoch = steps_per_epoch
        self.eval_batch_size = int(eval_batch_size)
        tokens = encoder.tokenize(list(texts), node_ids=node_ids)
        self.input_ids = tokens["input_ids"]
        self.attention_mask = tokens["attention_mask"]
        self.rowptr, self.col = neighbor_ptr(data.edge_index, data.num_nodes)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_nodes={self.data.num_nodes}, "
            f"train={self.train_index.numel()}, "
            f"val={self.val_index.numel()}, "
            f"num_neighbors={self.num_neighbors}, "
            f"batch_size={self.batch_size}, "
            f"max_length={self.input_ids.size(1)}, "
            f"neighbor_features={self.neighbor_features!r})"
        )

    def tokens(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """``input_ids`` and ``attention_mask`` of nodes ``index``.

        Columns that hold only padding for these nodes are cut away.
        """
        mask = self.attention_mask[index]
        width = max(int(mask.sum(dim=1).max()), 1) if index.numel() else 1
        return self.input_ids[index, :width], mask[:, :width]

    def sample(self, seeds: Tensor,
               generator: torch.Generator | None = None) -> Data:
        """The sampled subgraph around ``seeds`` (seeds come first).

        Returns:
            Data: ``n_id`` (global ids), ``edge_index`` (local),
            ``batch_size`` (number of seeds) and ``y`` of the seeds.
        """
        n_id = sample_neighbors(seeds, self.rowptr, self.col,
                                self.num_neighbors, generator)
        edge_index, _ = subgraph(n_id, self.data.edge_index,
                                 relabel_nodes=True,
                                 num_nodes=self.data.num_nodes)
        return Data(n_id=n_id, edge_index=edge_index,
                    batch_size=seeds.numel(), y=self.y[seeds],
                    num_nodes=n_id.numel())

    def train_batches(self, generator: torch.Generator) -> list[Data]:
        """Sampled subgraphs around shuffled training nodes."""
        order = torch.randperm(self.train_index.numel(), generator=generator)
        seeds = self.train_index[order]
        if self.steps_per_epoch is not None:
            seeds = seeds[: self.steps_per_epoch * self.batch_size]
        return [self.sample(part, generator)
                for part in seeds.split(self.batch_size)]

    def loss(self, model: nn.Module, batch: Data) -> Tensor:
        """Cross-entropy on the seed nodes of the subgraph."""
        if self.neighbor_features == "fresh":
            input_ids, attention_mask = self.tokens(batch.n_id)
            logits = model(input_ids, attention_mask, batch.edge_index)
        else:
            logits = model.gnn_forward(self._mixed(model, batch),
                                       batch.edge_index)
        return F.cross_entropy(logits[: batch.batch_size], batch.y)

    def _mixed(self, model: LMGNN, batch: Data) -> Tensor:
        """Fresh embeddings of the seeds, table rows for the others."""
        if self.table is None:
            self.refresh(model)
        if self.table.is_inference():  # filled during validation
            self.table = self.table.clone()
        seeds = batch.n_id[: batch.batch_size]
        fresh = model.encode_tokens(*self.tokens(seeds))  # [b, d]
        return torch.cat([fresh, self.table[batch.n_id[batch.batch_size:]]])

    def refresh(self, model: LMGNN) -> Tensor:
        """Encode every text in eval mode and keep it as the table.

        Returns:
            Tensor: the cached neighbour embeddings ``[num_nodes, d]``.
        """
        was_training = model.training
        model.eval()
        with torch.no_grad():
            self.table = model.embed_texts(
                self.input_ids, self.attention_mask, self.eval_batch_size)
        model.train(was_training)
        return self.table

    def node_logits(self, model: LMGNN) -> Tensor:
        """Logits of every node: all texts encoded, GNN on the full graph.

        Runs without gradients; call it with the model in eval mode.

        Returns:
            Tensor: ``[num_nodes, num_classes]``.
        """
        x = self.refresh(model)  # [num_nodes, d]
        with torch.no_grad():
            return model.gnn_forward(x, self.data.edge_index)

    def validate(self, model: nn.Module) -> dict[str, float]:
        """``loss`` and ``accuracy`` on the validation nodes."""
        logits = self.node_logits(model)[self.val_index]
        y = self.y[self.val_index]
        return {
            "loss": float(F.cross_entropy(logits, y)),
            "accuracy": float((logits.argmax(-1) == y).float().mean()),
        }


def joint_param_groups(
    model: LMGNN,
    lm_lr: float = 1e-4,
    lm_warmup_epochs: float = 0.0,
    gnn_lr: float | None = None,
    gnn_warmup_epochs: float | None = None,
) -> list[dict[str, Any]]:
    """``TrainConfig.param_groups`` with an LM and a GNN group.

    Each group gets its own learning rate and warm-up.

    The LM group (prefix ``encoder.``) is left out when the LM is frozen,
    since a group that selects no trainable parameter is an error.

    Args:
        model (LMGNN): the model.
        lm_lr (float): LM learning rate. (default: ``1e-4``)
        lm_warmup_epochs (float): LM warm-up. (default: ``0``)
        gnn_lr (float, optional): GNN and head learning rate (default:
            ``TrainConfig.lr``).
        gnn_warmup_epochs (float, optional): GNN warm-up (default:
            ``TrainConfig.warmup_epochs``).

    Returns:
        list[dict]: groups for :class:`~gnnkit.train.config.TrainConfig`.
    """
    groups = []
    if model.lm_trains:
        groups.append({"name": "lm", "prefix": "encoder.", "lr": lm_lr,
                       "warmup_epochs": lm_warmup_epochs})
    gnn = {"name": "gnn", "prefix": "gnn."}
    if gnn_lr is not None:
        gnn["lr"] = gnn_lr
    if gnn_warmup_epochs is not None:
        gnn["warmup_epochs"] = gnn_warmup_epochs
    return groups + [gnn]


@dataclass
class JointSettings:
    """Small, CPU-sized settings for joint LM+GNN training.

    Args:
        max_length (int): tokens kept per text. (default: ``128``)
        num_neighbors (tuple of int): fan-out per hop. With ``"cached"``
            neighbour features it costs no LM work, so the default keeps
            two hops; with ``"fresh"`` every sampled text is encoded, and
            ``(3,)`` is a CPU-sized choice. (default: ``(10, 5)``)
        batch_size (int): training nodes per step. (default: ``32``)
        steps_per_epoch (int, optional): cap on steps per epoch.
        epochs (int): epochs. (default: ``4``)
        patience (int, optional): early-stopping patience in epochs.
        lm_lr (float): LM learning rate. (default: ``5e-4``)
        gnn_lr (float): GNN and head learning rate. (default: ``1e-2``)
        lm_warmup_epochs (float): LM warm-up. (default: ``0.5``)
        weight_decay (float): weight decay. (default: ``5e-4``)
        grad_clip (float, optional): gradient-norm clip.
            (default: ``1.0``)
        hidden_channels (int): GNN width. (default: ``128``)
        num_layers (int): GNN layers. (default: ``2``)
        dropout (float): GNN dropout. (default: ``0.5``)
        eval_batch_size (int): texts per LM call in validation.
            (default: ``64``)
        neighbor_features (str): ``"fresh"`` (encode every sampled node)
            or ``"cached"`` (encode the batch's training nodes only; see
            :class:`JointNodeTask`). (default: ``"cached"``)
    """

    max_length: int = 128
    num_neighbors: tuple[int, ...] = (10, 5)
    batch_size: int = 32
    steps_per_epoch: int | None = None
    epochs: int = 4
    patience: int | None = None
    lm_lr: float = 5e-4
    gnn_lr: float = 1e-2
    lm_warmup_epochs: float = 0.5
    weight_decay: float = 5e-4
    grad_clip: float | None = 1.0
    hidden_channels: int = 128
    num_layers: int = 2
    dropout: float = 0.5
    eval_batch_size: int = 64
    neighbor_features: str = "cached"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        out = asdict(self)
        out["num_neighbors"] = list(self.num_neighbors)
        return out

    def train_config(self, model: LMGNN, seed: int = 0,
                     progress_bar: bool = False) -> TrainConfig:
        """The :class:`TrainConfig` with separate LM and GNN groups."""
        return TrainConfig(
            lr=self.gnn_lr, weight_decay=self.weight_decay,
            epochs=self.epochs, patience=self.patience,
            batch_size=self.batch_size, grad_clip=self.grad_clip,
            schedule="linear", seed=seed, progress_bar=progress_bar,
            param_groups=joint_param_groups(
                model, self.lm_lr, self.lm_warmup_epochs),
        )


def train_joint(
    model: LMGNN,
    data: Data,
    texts: Sequence[str],
    train_index: Tensor,
    val_index: Tensor,
    settings: JointSettings | None = None,
    *,
    node_ids: Sequence[Any] | None = None,
    seed: int = 0,
    progress_bar: bool = False,
) -> tuple[FitResult, JointNodeTask]:
    """Fit ``model`` on the labelled nodes with :class:`JointNodeTask`.

    Args:
        model (LMGNN): the model (its encoder's ``max_length`` applies).
        data (Data): the graph with ``y``.
        texts (Sequence[str]): one text per node.
        train_index (Tensor): training nodes.
        val_index (Tensor): validation nodes (select the epoch).
        settings (JointSettings, optional): the settings.
        node_ids (Sequence, optional): ids naming nodes in warnings.
        seed (int): training seed. (default: ``0``)
        progress_bar (bool): show the epoch bar. (default: ``False``)

    Returns:
        tuple: the :class:`~gnnkit.train.fit.FitResult` and the task
        (whose :meth:`JointNodeTask.node_logits` scores every node).
    """
    settings = settings or JointSettings()
    task = JointNodeTask(
        data, texts, train_index, val_index, encoder=model.encoder,
        node_ids=node_ids, num_neighbors=settings.num_neighbors,
        batch_size=settings.batch_size,
        steps_per_epoch=settings.steps_per_epoch,
        eval_batch_size=settings.eval_batch_size,
        neighbor_features=settings.neighbor_features,
    )
    config = settings.train_config(model, seed, progress_bar)
    return fit(model, task, config), task


def _check_graph(data: Data, texts: Sequence[str]) -> None:
    if getattr(data, "y", None) is None:
        raise DataError("the graph has no node labels y.", field="y")
    if len(texts) != data.num_nodes:
        raise DataError(
            f"there are {len(texts)} texts for a graph of {data.num_nodes} "
            "nodes; give one text per node, in node order.", field="text")
