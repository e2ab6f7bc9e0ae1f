"""The modes :func:`~gnnkit.evaluate.compare.compare` runs, one trainer each.

A mode name says how text becomes a prediction: ``cascade_<gnn>`` (frozen,
cached LM embeddings as node features), ``tfidf_<gnn>``, ``hybrid_<gnn>``
(LM embeddings beside TF-IDF), ``mlp_lm``/``mlp_tfidf`` (no edges), where
feature modes also take ``appnp`` (MLP, then propagation) and ``grand``
(GRAND with its consistency loss over random views) as ``<gnn>``,
``joint_<strategy>[_<gnn>]`` (LM and GNN trained end to end), ``lm``
(the LM alone on each node's text) and ``a+b`` (an ensemble).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.evaluate.features import FeatureStore
from gnnkit.evaluate.grand_mode import GrandSettings, fit_grand
from gnnkit.models.backbones import build_model
from gnnkit.models.fusion import LMGNN
from gnnkit.models.lm_classifier import LMNodeClassifier
from gnnkit.models.peft_strategies import count_parameters
from gnnkit.models.propagation import APPNPNet
from gnnkit.text.encoder import TextEncoder
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import FitResult, fit
from gnnkit.train.joint import JointSettings, train_joint
from gnnkit.train.predict import predict
from gnnkit.train.tasks import NodeTask
from gnnkit.train.text_tasks import TextNodeTask

BACKBONES = ("gcn", "sage", "gat", "gin", "mlp")
FEATURE_BACKBONES = BACKBONES + ("appnp", "grand")
FEATURES = {"cascade": "lm", "tfidf": "tfidf", "hybrid": "hybrid",
            "gnn": "x"}

Split = tuple[Tensor, Tensor, Tensor]


@dataclass(frozen=True)
class Mode:
    """A parsed mode name.

    Attributes:
        name (str): as given, e.g. ``"cascade_sage"``.
        kind (str): ``"features"``, ``"joint"`` or ``"lm"``.
        features (str, optional): ``"lm"``, ``"tfidf"``, ``"hybrid"`` or
            ``"x"`` (the dataset's own node features).
        backbone (str): GNN (or ``"mlp"``) name.
        strategy (str, optional): LM strategy of a joint mode.
        parts (tuple of Mode): members of an ``"ensemble"``.
    """

    name: str
    kind: str
    features: str | None = None
    backbone: str = "gcn"
    strategy: str | None = None
    parts: tuple["Mode", ...] = ()

    @property
    def needs_text(self) -> bool:
        """Whether the mode reads node texts."""
        if self.parts:
            return any(part.needs_text for part in self.parts)
        return self.features != "x"


@dataclass
class ModeRun:
    """One trained mode.

    Attributes:
        fit (FitResult): the training history (epoch chosen on
            validation).
        test_logits (Tensor): logits of the test nodes ``[n_test, C]``.
        trainable_parameters (int): parameters that trained.
        model (nn.Module): the trained model.
        features (Tensor, optional): the node features a feature mode
            used ``[num_nodes, F]``.
        val_logits (Tensor, optional): logits of the validation nodes
            ``[n_val, C]`` from the selected model (the score that picks
            a mode).
    """

    fit: FitResult
    test_logits: Tensor
    trainable_parameters: int
    model: nn.Module
    features: Tensor | None = None
    val_logits: Tensor | None = None

    def val_accuracy(self, y: Tensor) -> float | None:
        """Accuracy of :attr:`val_logits` against the validation labels."""
        if self.val_logits is None:
            return None
        return float((self.val_logits.argmax(-1) == y).float().mean())


def parse_mode(name: str) -> Mode:
    """Read a mode name such as ``"cascade_gcn"`` or ``"joint_top-2"``.

    Modes joined by ``+`` (e.g. ``"cascade_gcn+tfidf_gcn"``) form an
    ensemble that averages the members' class probabilities.

    Raises:
        ValueError: for a name outside the grammar, listing it.
    """
    if "+" in name:
        parts = tuple(parse_mode(part) for part in name.split("+"))
        return Mode(name, "ensemble", parts=parts)
    if name == "lm":
        return Mode(name, "lm")
    match = re.fullmatch(r"joint_(frozen|full|lora|prefix|top-?\d+)"
                         r"(?:_(\w+))?", name)
    if match:
        backbone = match.group(2) or "gcn"
        if backbone in BACKBONES:
            return Mode(name, "joint", "lm", backbone, match.group(1))
    prefix, _, rest = name.partition("_")
    if prefix == "mlp" and rest in ("lm", "tfidf", "hybrid", "x"):
        return Mode(name, "features", rest, "mlp")
    if prefix in FEATURES and rest in FEATURE_BACKBONES:
        return Mode(name, "features", FEATURES[prefix], rest)
    raise ValueError(
        f"Unknown mode {name!r}. Modes are 'lm', 'cascade_<gnn>', "
        "'tfidf_<gnn>', 'hybrid_<gnn>', 'gnn_<gnn>' (the dataset's own "
        "features), 'mlp_lm', 'mlp_tfidf' and "
        "'joint_<strategy>[_<gnn>]' with <gnn> one of "
        f"{list(BACKBONES)} (feature modes also 'appnp' and 'grand') and "
        "<strategy> "
        "one of frozen, top-<k>, full, lora, prefix; join modes with '+' "
        "for an ensemble."
    )


@dataclass
class CompareSettings:
    """Model and training settings of :func:`compare`.

    Args:
        hidden_channels (int): GNN/MLP width. (default: ``128``)
        num_layers (int): layers. (default: ``2``)
        dropout (float): dropout. (default: ``0.5``)
        lr (float): learning rate of feature modes. (default: ``1e-2``)
        weight_decay (float): weight decay. (default: ``5e-4``)
        epochs (int): maximum epochs of feature modes. (default: ``300``)
        patience (int): early-stopping patience. (default: ``50``)
        tfidf_features (int): TF-IDF vocabulary size. (default: ``3000``)
        appnp_k (int): propagation steps of ``*_appnp``. (default: ``10``)
        appnp_alpha (float): teleport probability of ``*_appnp``.
            (default: ``0.1``)
        lm (str, optional): LM name or folder (default: the shipped
            all-MiniLM-L6-v2).
        pooling (str): pooling of cascade embeddings. (default: ``"mean"``)
        max_length (int): tokens per text for cascade embeddings.
            (default: ``256``)
        normalize (bool): scale each LM embedding to unit length, the
            last step of the sentence-transformers pipeline of
            all-MiniLM-L6-v2. (default: ``True``)
        cache (optional): embedding cache (folder, ``EmbeddingCache``,
            ``True`` for ``.gnnkit_cache/`` or ``None``).
            (default: ``True``)
        joint (JointSettings): settings of ``joint_*`` modes.
        grand (GrandSettings): settings of ``*_grand`` modes.
        lm_max_length (int): tokens per text of the ``lm`` mode.
            (default: ``128``)
        lm_epochs (int): epochs of the ``lm`` mode. (default: ``3``)
        lm_lr (float): learning rate of the ``lm`` mode.
            (default: ``5e-5``)
        lm_batch_size (int): texts per step of the ``lm`` mode.
            (default: ``16``)
        progress_bar (bool): show progress bars. (default: ``False``)
    """

    hidden_channels: int = 128
    num_layers: int = 2
    dropout: float = 0.5
    lr: float = 1e-2
    weight_decay: float = 5e-4
    epochs: int = 300
    patience: int = 50
    tfidf_features: int = 3000
    appnp_k: int = 10
    appnp_alpha: float = 0.1
    lm: str | None = None
    pooling: str = "mean"
    max_length: int = 256
    normalize: bool = True
    cache: Any = True
    joint: JointSettings = field(default_factory=JointSettings)
    grand: GrandSettings = field(default_factory=GrandSettings)
    lm_max_length: int = 128
    lm_epochs: int = 3
    lm_lr: float = 5e-5
    lm_batch_size: int = 16
    progress_bar: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        out = dataclasses.asdict(self)
        out["joint"] = self.joint.to_dict()
        out["grand"] = self.grand.to_dict()
        out["cache"] = None if self.cache is None else str(self.cache)
        return out

    def gnn(self) -> dict[str, Any]:
        """Keyword arguments of :func:`build_model`."""
        return {"hidden_channels": self.hidden_channels,
                "num_layers": self.num_layers, "dropout": self.dropout}


def _run_features(mode: Mode, dataset: GraphDataset, features: FeatureStore,
                  part: Split, seed: int,
                  settings: CompareSettings) -> ModeRun:
    graph = dataset.graphs[0]
    x = features.get(mode.features)
    data = Data(x=x, edge_index=graph.edge_index, y=graph.y.view(-1),
                num_nodes=x.size(0))
    torch.manual_seed(seed)
    if mode.backbone == "grand":
        model, fitted = fit_grand(data, part, dataset.num_classes, seed,
                                  settings.grand, settings.progress_bar)
    else:
        model = _feature_model(mode, x.size(1), dataset.num_classes,
                               settings)
        config = TrainConfig(
            lr=settings.lr, weight_decay=settings.weight_decay,
            epochs=settings.epochs, patience=settings.patience,
            schedule="constant", seed=seed,
            progress_bar=settings.progress_bar)
        fitted = fit(model, NodeTask(data, part[0], part[1]), config)
    logits = predict(model, data)
    return ModeRun(fitted, logits[part[2]], count_parameters(model), model,
                   x, logits[part[1]])


def _feature_model(mode: Mode, in_channels: int, num_classes: int,
                   settings: CompareSettings) -> nn.Module:
    if mode.backbone == "appnp":
        return APPNPNet(in_channels, num_classes, K=settings.appnp_k,
                        alpha=settings.appnp_alpha, **settings.gnn())
    return build_model(mode.backbone, in_channels, num_classes,
                       level="node", **settings.gnn())


def _run_joint(mode: Mode, dataset: GraphDataset, features: FeatureStore,
               part: Split, seed: int,
               settings: CompareSettings) -> ModeRun:
    joint = settings.joint
    torch.manual_seed(seed)
    encoder = TextEncoder(settings.lm, pooling=settings.pooling,
                          max_length=joint.max_length)
    model = LMGNN(encoder, dataset.num_classes, gnn=mode.backbone,
                  strategy=mode.strategy, classes=dataset.classes,
                  hidden_channels=joint.hidden_channels,
                  num_layers=joint.num_layers, dropout=joint.dropout)
    fitted, task = train_joint(
        model, dataset.graphs[0], features.texts, part[0], part[1], joint,
        node_ids=dataset.node_ids[0], seed=seed,
        progress_bar=settings.progress_bar)
    model.eval()
    with torch.no_grad():
        logits = task.node_logits(model)
    size = model.trainable_parameters()["total"]
    return ModeRun(fitted, logits[part[2]], size, model,
                   val_logits=logits[part[1]])


def _run_lm(mode: Mode, dataset: GraphDataset, features: FeatureStore,
            part: Split, seed: int, settings: CompareSettings) -> ModeRun:
    torch.manual_seed(seed)
    model = LMNodeClassifier(settings.lm, dataset.num_classes,
                             max_length=settings.lm_max_length)
    task = TextNodeTask(
        features.texts, dataset.y, part[0], part[1],
        tokenizer=model.tokenizer, max_length=model.max_length,
        batch_size=settings.lm_batch_size, node_ids=dataset.node_ids[0])
    config = TrainConfig(
        lr=settings.lm_lr, weight_decay=0.01, epochs=settings.lm_epochs,
        warmup_epochs=0.1 * settings.lm_epochs, schedule="linear",
        grad_clip=1.0, seed=seed, progress_bar=settings.progress_bar)
    fitted = fit(model, task, config)
    logits = [model.predict_logits([features.texts[i] for i in index])
              for index in (part[1].tolist(), part[2].tolist())]
    return ModeRun(fitted, logits[1], count_parameters(model), model,
                   val_logits=logits[0])


def run_mode(
    mode: Mode,
    dataset: GraphDataset,
    features: FeatureStore,
    split: Split,
    seed: int,
    settings: CompareSettings,
    memo: dict[str, ModeRun] | None = None,
) -> ModeRun:
    """Train one mode on ``split`` and score its test nodes once.

    Args:
        mode (Mode): the parsed mode.
        dataset (GraphDataset): the node classification dataset.
        features (FeatureStore): the shared node features.
        split (tuple of Tensor): ``(train, val, test)`` node indices.
        seed (int): seed of initialisation and training.
        settings (CompareSettings): the settings.
        memo (dict, optional): runs of this split and seed by mode name;
            a mode found there is not trained again (runs are
            deterministic given the seed), and new runs are added.

    Returns:
        ModeRun: the fit (epoch chosen on validation), the test logits,
        the trainable parameter count and the model.
    """
    if memo is not None and mode.name in memo:
        return memo[mode.name]
    if mode.kind == "ensemble":
        done = _run_ensemble(mode, dataset, features, split, seed, settings,
                             memo)
    else:
        runner = {"features": _run_features, "joint": _run_joint,
                  "lm": _run_lm}[mode.kind]
        done = runner(mode, dataset, features, split, seed, settings)
    if memo is not None:
        memo[mode.name] = done
    return done


def _run_ensemble(mode: Mode, dataset: GraphDataset,
                  features: FeatureStore, part: Split, seed: int,
                  settings: CompareSettings,
                  memo: dict[str, ModeRun] | None) -> ModeRun:
    """Train the members alone, then average their probabilities."""
    runs = [run_mode(member, dataset, features, part, seed, settings, memo)
            for member in mode.parts]
    probs = _mean_probs([r.test_logits for r in runs])
    val = (None if any(r.val_logits is None for r in runs)
           else _mean_probs([r.val_logits for r in runs]).log())
    scores = [r.fit.best_score for r in runs]
    fitted = FitResult(
        best_epoch=runs[0].fit.best_epoch, monitor=runs[0].fit.monitor,
        best_score=None if None in scores else sum(scores) / len(scores),
        train_seconds=sum(r.fit.train_seconds for r in runs))
    size = sum(r.trainable_parameters for r in runs)
    models = nn.ModuleList(r.model for r in runs)
    return ModeRun(fitted, probs.log(), size, models, val_logits=val)


def _mean_probs(logits: list[Tensor]) -> Tensor:
    return torch.stack([x.softmax(-1) for x in logits]).mean(0)
