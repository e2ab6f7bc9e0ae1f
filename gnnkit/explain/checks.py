"""Checks that explanations are right: recovery of planted house motifs on
PyG's ``ExplainerDataset`` (Ying et al., 2019), stability over seeds, and
the model-randomisation test of Adebayo et al. (2018)."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
import torch_geometric.transforms as T
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.datasets import ExplainerDataset
from torch_geometric.datasets.graph_generator import BAGraph
from tqdm.auto import tqdm

from gnnkit.explain.attributions import (
    Attribution,
    explain_graph,
    explain_node,
)
from gnnkit.explain.wrappers import DEFAULT_METHOD, METHODS
from gnnkit.models.backbones import build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.tasks import NodeTask


def planted_motif_graph(
    num_nodes: int = 300,
    num_edges: int = 5,
    num_motifs: int = 80,
    seed: int = 0,
) -> Data:
    """A Barabasi-Albert graph with planted house motifs (BA-Shapes).

    Built offline by PyG's ``ExplainerDataset`` with constant node
    features. Labels: 0 for base nodes, 1-3 for the house's top, middle
    and bottom nodes. ``node_mask`` and ``edge_mask`` mark motif members.

    Args:
        num_nodes (int, optional): nodes of the BA graph. (default: ``300``)
        num_edges (int, optional): edges added per BA node.
            (default: ``5``)
        num_motifs (int, optional): houses attached. (default: ``80``)
        seed (int, optional): random seed. (default: ``0``)

    Returns:
        Data: ``x [N, 1]``, ``edge_index``, ``y``, ground-truth
        ``node_mask [N]`` and ``edge_mask [E]``.
    """
    numpy_state = np.random.get_state()  # PyG's BA graph draws from numpy
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed)
        dataset = ExplainerDataset(
            graph_generator=BAGraph(num_nodes=num_nodes,
                                    num_edges=num_edges),
            motif_generator="house", num_motifs=num_motifs,
            transform=T.Constant(),
        )
        graph = dataset[0]
    np.random.set_state(numpy_state)
    return Data(x=graph.x, edge_index=graph.edge_index, y=graph.y,
                node_mask=graph.node_mask, edge_mask=graph.edge_mask)


def train_motif_model(
    data: Data,
    *,
    name: str = "gcn",
    num_layers: int = 3,
    hidden_channels: int = 32,
    epochs: int = 300,
    seed: int = 0,
) -> tuple[nn.Module, float]:
    """Train a node classifier on a planted-motif graph with gnnkit's fit.

    Args:
        data (Data): from :func:`planted_motif_graph`.
        name (str, optional): backbone name. (default: ``"gcn"``)
        num_layers (int, optional): message-passing layers.
            (default: ``3``)
        hidden_channels (int, optional): width. (default: ``32``)
        epochs (int, optional): training epochs. (default: ``300``)
        seed (int, optional): split and training seed. (default: ``0``)

    Returns:
        tuple: the model in eval mode and its validation accuracy.
    """
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(data.num_nodes, generator=generator)
    cut = int(0.8 * data.num_nodes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(name, data.num_features, 4, level="node",
                            hidden_channels=hidden_channels,
                            num_layers=num_layers, dropout=0.0)
    result = fit(model, NodeTask(data, order[:cut], order[cut:]),
                 TrainConfig(epochs=epochs, lr=0.01, seed=seed,
                             schedule="constant",
                             progress_bar=False))
    return model.eval(), float(result.best_score)


def motif_nodes(data: Data, count: int, seed: int = 0) -> list[int]:
    """``count`` motif nodes in a seeded random order."""
    nodes = data.node_mask.nonzero().view(-1)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(nodes.numel(), generator=generator)
    return nodes[order[:count]].tolist()


def edge_auroc(
    model: nn.Module,
    data: Data,
    nodes: Sequence[int],
    *,
    method: str = DEFAULT_METHOD,
    progress_bar: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Mean edge AUROC of explanations against planted motif edges.

    Each node is explained on its receptive field; edge attribution
    magnitudes are scored against ``data.edge_mask`` on those edges. A node
    whose field holds only motif or only non-motif edges has no AUROC and
    is left out of the mean; the count is reported.

    Args:
        model (nn.Module): a trained node classifier.
        data (Data): graph with a ground-truth ``edge_mask``.
        nodes (sequence of int): nodes to explain.
        method (str, optional): explanation method.
        progress_bar (bool, optional): show a tqdm bar.
        **options: passed to :func:`explain_node`.

    Returns:
        dict: ``auroc`` (mean), ``defined`` and ``explained`` counts.
    """
    scores = []
    for node in tqdm(nodes, desc=f"explaining ({method})",
                     disable=not progress_bar):
        result = explain_node(model, data, node, method=method, **options)
        truth = data.edge_mask[result.edge_rows].numpy()
        if result.edge_mask is not None and 0 < truth.sum() < truth.size:
            scores.append(roc_auc_score(truth,
                                        result.edge_mask.abs().numpy()))
    mean = float(np.mean(scores)) if scores else None
    return {"method": method, "auroc": mean, "defined": len(scores),
            "explained": len(nodes)}


def ground_truth_check(
    model: nn.Module,
    data: Data,
    *,
    methods: Sequence[str] = METHODS,
    num_explained: int = 40,
    seed: int = 0,
    progress_bar: bool = True,
    **options: Any,
) -> list[dict[str, Any]]:
    """Edge AUROC of every method on the same planted-motif nodes.

    Returns:
        list[dict]: one record per method (see :func:`edge_auroc`).
    """
    nodes = motif_nodes(data, num_explained, seed)
    return [edge_auroc(model, data, nodes, method=m,
                       progress_bar=progress_bar, **options)
            for m in methods]


@dataclass
class Agreement:
    """How much several explanations of one prediction agree.

    Attributes:
        rank_agreement (float): mean pairwise Spearman correlation of the
            attribution magnitudes (1 = same ranking).
        topk_overlap (float): mean pairwise Jaccard overlap of the top
            ``k`` entries.
        k (int): size of the top sets.
        runs (int): explanations compared.
    """

    rank_agreement: float
    topk_overlap: float
    k: int
    runs: int

    def to_dict(self) -> dict[str, Any]:
        """The scores as a plain dict."""
        return dict(rank_agreement=self.rank_agreement,
                    topk_overlap=self.topk_overlap, k=self.k, runs=self.runs)


def scores_of(result: Attribution) -> Tensor:
    """Attribution magnitudes compared by the checks: per edge when the
    model passes messages, else per node."""
    if result.edge_mask is not None and result.edge_mask.numel():
        return result.edge_mask.abs()
    return result.node_importance.abs()


def agreement(results: Sequence[Attribution], k: int = 5) -> Agreement:
    """Pairwise agreement of explanations of the same item.

    Args:
        results (sequence of Attribution): at least two explanations.
        k (int, optional): size of the top sets. (default: ``5``)
    """
    if len(results) < 2:
        raise ValueError(
            f"agreement needs at least 2 explanations (got {len(results)})."
        )
    scores = [scores_of(r) for r in results]
    ranks, overlaps = [], []
    for a, b in itertools.combinations(scores, 2):
        ranks.append(_spearman(a, b))
        overlaps.append(_jaccard(a, b, k))
    return Agreement(float(np.mean(ranks)), float(np.mean(overlaps)),
                     min(k, scores[0].numel()), len(results))


def _spearman(a: Tensor, b: Tensor) -> float:
    if a.numel() < 2 or a.std() == 0 or b.std() == 0:
        return 1.0 if torch.equal(a, b) else 0.0
    return float(spearmanr(a.numpy(), b.numpy()).statistic)


def _jaccard(a: Tensor, b: Tensor, k: int) -> float:
    k = min(k, a.numel())
    top_a = set(a.topk(k).indices.tolist())
    top_b = set(b.topk(k).indices.tolist())
    return len(top_a & top_b) / max(1, len(top_a | top_b))


def stability(
    model: nn.Module,
    source: Any,
    item: Any,
    *,
    level: str = "graph",
    method: str = "gnnexplainer",
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    k: int = 5,
    **options: Any,
) -> Agreement:
    """Explain the same prediction once per seed and score the agreement.

    Captum methods are deterministic (agreement 1); GNNExplainer starts
    from random masks, so its runs differ (PyG issue #2034).

    Args:
        model (nn.Module): the model.
        source (Any): dataset or graph, as for :func:`explain_graph` or
            :func:`explain_node`.
        item (Any): graph index or node id.
        level (str, optional): ``"graph"`` or ``"node"``.
        method (str, optional): the method. (default: ``"gnnexplainer"``)
        seeds (sequence of int, optional): one run per seed.
        k (int, optional): top-set size for the overlap. (default: ``5``)
        **options: passed to the explain function.
    """
    explain = explain_graph if level == "graph" else explain_node
    runs = [explain(model, source, item, method=method, seed=s, **options)
            for s in seeds]
    return agreement(runs, k)


def randomise_weights(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``model`` with every layer re-initialised."""
    clone = copy.deepcopy(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in clone.modules():
            if module is not clone and hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return clone.eval()


def randomisation_check(
    model: nn.Module,
    source: Any,
    item: Any,
    *,
    level: str = "graph",
    method: str = DEFAULT_METHOD,
    threshold: float = 0.5,
    seed: int = 0,
    **options: Any,
) -> dict[str, Any]:
    """Model-randomisation sanity check (Adebayo et al., 2018).

    An explanation that survives randomising the model's weights explains
    the input, not the model. The check compares the attribution ranking
    of the trained model with that of a re-initialised copy.

    Args:
        model (nn.Module): the trained model.
        source (Any): dataset or graph.
        item (Any): graph index or node id.
        level (str, optional): ``"graph"`` or ``"node"``.
        method (str, optional): the method checked.
        threshold (float, optional): the check passes when the Spearman
            correlation is below this. (default: ``0.5``)
        seed (int, optional): seed of the re-initialisation.
        **options: passed to the explain function.

    Returns:
        dict: ``spearman``, ``topk_overlap``, ``max_change`` and
        ``passed``.
    """
    explain = explain_graph if level == "graph" else explain_node
    trained = explain(model, source, item, method=method, **options)
    random = explain(randomise_weights(model, seed), source, item,
                     method=method, **options)
    score = agreement([trained, random])
    change = (scores_of(trained) - scores_of(random)).abs().max()
    return {"method": method, "spearman": score.rank_agreement,
            "topk_overlap": score.topk_overlap,
            "max_change": float(change),
            "passed": score.rank_agreement < threshold}
