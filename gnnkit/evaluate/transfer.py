"""Knowledge transfer and continual fine-tuning of an LM+GNN model.

:func:`transfer` pre-trains on one text graph and fine-tunes on another
(e.g. CiteSeer_TAG to Cora_TAG): the LM adapter and the GNN carry over, the
head is new. It reports the target accuracy with only the new head trained
(before fine-tuning), after fine-tuning everything, and for the same
training from the base LM (from scratch). :func:`continual` fine-tunes a
trained model on newly labelled nodes and reports how much accuracy on the
old ones is kept.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.evaluate.compare import make_splits
from gnnkit.models.fusion import LMGNN
from gnnkit.models.peft_strategies import LMStrategy
from gnnkit.text.encoder import TextEncoder
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.joint import JointSettings, train_joint
from gnnkit.train.tasks import NodeTask

Split = tuple[Tensor, Tensor, Tensor]


@dataclass
class TransferResult:
    """Target accuracies of :func:`transfer`.

    All are measured on the target's test nodes, with epochs chosen on
    its validation nodes.

    Attributes:
        source (str): source dataset name.
        target (str): target dataset name.
        source_accuracy (float): test accuracy on the source after
            pre-training.
        before (float): target accuracy with the carried-over LM and GNN
            frozen and only the new head trained.
        after (float): target accuracy after fine-tuning LM adapter, GNN
            and head.
        scratch (float): target accuracy of the same fine-tuning started
            from the base LM instead of the pre-trained model.
        trainable_parameters (dict): counts of the fine-tuned model.
        seconds (dict): wall time of each stage.
    """

    source: str
    target: str
    source_accuracy: float
    before: float
    after: float
    scratch: float
    trainable_parameters: dict[str, int]
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        return dataclasses.asdict(self)


@dataclass
class ContinualResult:
    """Accuracies of :func:`continual`.

    Attributes:
        old_before (float): accuracy on the old labelled nodes before the
            second fine-tuning.
        old_after (float): the same after fine-tuning on the new nodes.
        kept (float): ``old_after / old_before``.
        new_after (float): accuracy on the new labelled nodes afterwards.
        test_before (float): test accuracy before the second fine-tuning.
        test_after (float): test accuracy afterwards.
    """

    old_before: float
    old_after: float
    kept: float
    new_after: float
    test_before: float
    test_after: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        return dataclasses.asdict(self)


def new_model(
    dataset: GraphDataset,
    strategy: str | LMStrategy = "lora",
    settings: JointSettings | None = None,
    lm: str | None = None,
) -> LMGNN:
    """An :class:`LMGNN` for ``dataset`` built from the base LM.

    Args:
        dataset (GraphDataset): gives the classes.
        strategy (str or LMStrategy): the LM strategy. (default: ``"lora"``)
        settings (JointSettings, optional): ``max_length`` and GNN sizes.
        lm (str, optional): LM name or folder (default: the shipped one).
    """
    settings = settings or JointSettings()
    encoder = TextEncoder(lm, max_length=settings.max_length)
    return LMGNN(encoder, dataset.num_classes, strategy=strategy,
                 classes=dataset.classes,
                 hidden_channels=settings.hidden_channels,
                 num_layers=settings.num_layers, dropout=settings.dropout)


def accuracy(model: LMGNN, dataset: GraphDataset, index: Tensor) -> float:
    """Accuracy of ``model`` on nodes ``index`` (full-graph inference)."""
    texts = _texts(dataset)
    model.eval()
    tokens = model.encoder.tokenize(texts, warn=False)
    with torch.no_grad():
        x = model.embed_texts(tokens["input_ids"], tokens["attention_mask"])
        logits = model.gnn_forward(x, dataset.graphs[0].edge_index)
    y = dataset.y.view(-1)
    return float((logits[index].argmax(-1) == y[index]).float().mean())


def finetune(model: LMGNN, dataset: GraphDataset, split: Split,
             settings: JointSettings, seed: int = 0) -> float:
    """Train ``model`` jointly on ``split`` and return its test accuracy."""
    train_joint(model, dataset.graphs[0], _texts(dataset), split[0],
                split[1], settings, node_ids=dataset.node_ids[0], seed=seed)
    return accuracy(model, dataset, split[2])


def train_head(model: LMGNN, dataset: GraphDataset, split: Split,
               epochs: int = 200, seed: int = 0) -> float:
    """Train only the head of ``model`` and return the test accuracy.

    The LM and the GNN stay frozen and the LM embeddings are computed
    once; the trainable flags are restored afterwards.
    """
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith("gnn.head."))
    tokens = model.encoder.tokenize(_texts(dataset), warn=False)
    x = model.eval().embed_texts(tokens["input_ids"],
                                 tokens["attention_mask"])
    graph = dataset.graphs[0]
    data = Data(x=x, edge_index=graph.edge_index, y=graph.y.view(-1))
    config = TrainConfig(epochs=epochs, patience=50, schedule="constant",
                         seed=seed, progress_bar=False)
    fit(_GnnView(model), NodeTask(data, split[0], split[1]), config)
    for name, param in model.named_parameters():
        param.requires_grad_(name in trainable)
    return accuracy(model, dataset, split[2])


class _GnnView(nn.Module):
    """The GNN and head of an :class:`LMGNN`, called on LM embeddings."""

    def __init__(self, model: LMGNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, edge_index: Tensor, *args: Any,
                **kwargs: Any) -> Tensor:
        return self.model.gnn_forward(x, edge_index)


def transfer(
    source: GraphDataset,
    target: GraphDataset,
    *,
    strategy: str | LMStrategy = "lora",
    settings: JointSettings | None = None,
    lm: str | None = None,
    split: str = "60/20/20",
    k: int = 20,
    seed: int = 0,
    source_split: Split | None = None,
    target_split: Split | None = None,
) -> TransferResult:
    """Pre-train on ``source``, fine-tune on ``target`` with a new head.

    Args:
        source (GraphDataset): the pre-training text graph.
        target (GraphDataset): the text graph to transfer to.
        strategy (str or LMStrategy): LM strategy. (default: ``"lora"``)
        settings (JointSettings, optional): joint-training settings.
        lm (str, optional): LM name or folder (default: the shipped one).
        split (str): split of both datasets (see
            :func:`~gnnkit.evaluate.compare.make_splits`).
        k (int): labelled nodes per class for ``"k_per_class"``.
        seed (int): seed of splits and training. (default: ``0``)
        source_split (tuple of Tensor, optional): explicit source split.
        target_split (tuple of Tensor, optional): explicit target split.

    Returns:
        TransferResult: source accuracy and the target accuracies before
        and after fine-tuning and from scratch.

    Example:
        >>> result = transfer(load_dataset("CiteSeer_TAG"),
        ...                   load_dataset("Cora_TAG"), split="k_per_class")
        >>> result.after - result.scratch
    """
    settings = settings or JointSettings()
    src = source_split or _split(source, split, k, seed)
    tgt = target_split or _split(target, split, k, seed)
    seconds, clock = {}, time.perf_counter()
    torch.manual_seed(seed)
    model = new_model(source, strategy, settings, lm)
    source_accuracy = finetune(model, source, src, settings, seed)
    seconds["pretrain"], clock = _lap(clock)
    model.replace_head(target.classes)
    before = train_head(model, target, tgt, seed=seed)
    seconds["head_only"], clock = _lap(clock)
    after = finetune(model, target, tgt, settings, seed)
    seconds["finetune"], clock = _lap(clock)
    torch.manual_seed(seed)
    scratch = finetune(new_model(target, strategy, settings, lm), target,
                       tgt, settings, seed)
    seconds["scratch"], _ = _lap(clock)
    return TransferResult(source.name, target.name, source_accuracy, before,
                          after, scratch, model.trainable_parameters(),
                          seconds)


def continual(
    model: LMGNN,
    dataset: GraphDataset,
    old_index: Tensor,
    new_index: Tensor,
    val_index: Tensor,
    test_index: Tensor,
    settings: JointSettings | None = None,
    seed: int = 0,
) -> ContinualResult:
    """Fine-tune a trained model on new labelled nodes only.

    Args:
        model (LMGNN): a model already trained on ``old_index``.
        dataset (GraphDataset): the graph.
        old_index (Tensor): nodes the model was trained on.
        new_index (Tensor): newly labelled nodes to fine-tune on.
        val_index (Tensor): validation nodes (select the epoch).
        test_index (Tensor): held-out test nodes.
        settings (JointSettings, optional): joint-training settings.
        seed (int): training seed. (default: ``0``)

    Returns:
        ContinualResult: accuracy on old, new and test nodes, and the
        share of old-node accuracy kept.
    """
    settings = settings or JointSettings()
    old_before = accuracy(model, dataset, old_index)
    test_before = accuracy(model, dataset, test_index)
    finetune(model, dataset, (new_index, val_index, test_index), settings,
             seed)
    old_after = accuracy(model, dataset, old_index)
    kept = old_after / old_before if old_before > 0 else float("nan")
    return ContinualResult(old_before, old_after, kept,
                           accuracy(model, dataset, new_index), test_before,
                           accuracy(model, dataset, test_index))


def _split(dataset: GraphDataset, split: str, k: int, seed: int) -> Split:
    return make_splits(dataset.y.view(-1).long(), [seed], split, k)[0]


def _texts(dataset: GraphDataset) -> list[str]:
    return ["" if t is None else t for t in dataset.texts[0]]


def _lap(clock: float) -> tuple[float, float]:
    now = time.perf_counter()
    return now - clock, now


def partition(index: Tensor, fraction: float = 0.5,
              seed: int = 0) -> tuple[Tensor, Tensor]:
    """Split labelled nodes into an old and a new part at random.

    Args:
        index (Tensor): the labelled nodes.
        fraction (float): share that is old. (default: ``0.5``)
        seed (int): shuffling seed. (default: ``0``)
    """
    order = torch.randperm(index.numel(),
                           generator=torch.Generator().manual_seed(seed))
    cut = int(round(fraction * index.numel()))
    return index[order[:cut]].sort().values, index[order[cut:]].sort().values

