import pytest
import torch

from gnnkit.data.shipped import load_dataset
from gnnkit.explain.attributions import explain_graph
from gnnkit.explain.checks import (
    agreement,
    edge_auroc,
    ground_truth_check,
    motif_nodes,
    planted_motif_graph,
    randomisation_check,
    randomise_weights,
    stability,
    train_motif_model,
)
from gnnkit.models.backbones import build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.tasks import GraphTask


@pytest.fixture(scope="module")
def motif():
    data = planted_motif_graph(num_nodes=40, num_edges=2, num_motifs=8)
    model, accuracy = train_motif_model(data, epochs=200)
    return data, model, accuracy


@pytest.fixture(scope="module")
def mutag_gin():
    dataset = load_dataset("MUTAG")
    torch.manual_seed(0)
    model = build_model("gin", dataset.num_features, 2, hidden_channels=32)
    fit(model, GraphTask(dataset.graphs[:150], dataset.graphs[150:]),
        TrainConfig(epochs=5, progress_bar=False))
    return dataset, model.eval()


def test_planted_motif_graph_ground_truth():
    data = planted_motif_graph(num_nodes=40, num_edges=2, num_motifs=8)
    assert data.num_nodes == 40 + 8 * 5
    assert int(data.node_mask.sum()) == 40
    assert int(data.edge_mask.sum()) == 8 * 12  # 6 undirected house edges
    assert sorted(data.y.unique().tolist()) == [0, 1, 2, 3]
    again = planted_motif_graph(num_nodes=40, num_edges=2, num_motifs=8)
    assert torch.equal(data.edge_index, again.edge_index)


def test_ground_truth_check_recovers_houses(motif):
    data, model, accuracy = motif
    assert accuracy > 0.5
    rows = ground_truth_check(model, data, num_explained=6,
                              methods=["integrated_gradients", "saliency"],
                              progress_bar=False)
    default = rows[0]
    assert default["method"] == "integrated_gradients"
    assert default["defined"] == default["explained"] == 6
    assert default["auroc"] >= 0.9
    assert 0.0 <= rows[1]["auroc"] <= 1.0


def test_edge_auroc_undefined_without_edge_masks(motif):
    data, _, _ = motif
    nodes = motif_nodes(data, 3)
    flat = edge_auroc(build_model("mlp", 1, 4, level="node"), data, nodes,
                      method="saliency")
    assert flat == {"method": "saliency", "auroc": None, "defined": 0,
                    "explained": 3}


def test_stability_deterministic_and_random_methods(motif):
    data, model, _ = motif
    node = motif_nodes(data, 1)[0]
    same = stability(model, data, node, level="node", method="saliency",
                     seeds=(0, 1))
    assert same.rank_agreement == 1.0 and same.topk_overlap == 1.0
    varied = stability(model, data, node, level="node",
                       method="gnnexplainer", seeds=(0, 1, 2), epochs=30)
    assert varied.runs == 3
    assert varied.rank_agreement < 1.0
    assert set(varied.to_dict()) == {"rank_agreement", "topk_overlap", "k",
                                     "runs"}


def test_randomisation_check_changes_attributions(mutag_gin):
    dataset, model = mutag_gin
    random = randomise_weights(model)
    assert not torch.equal(random.head.lin2.weight, model.head.lin2.weight)
    report = randomisation_check(model, dataset, 35)
    assert report["max_change"] > 1e-3
    assert report["topk_overlap"] < 1.0
    assert report["spearman"] < 0.5 and report["passed"]
    # The trained model itself is untouched.
    again = explain_graph(model, dataset, 35, method="saliency")
    assert again.edge_mask.abs().sum() > 0


def test_agreement_needs_two_runs(mutag_gin):
    dataset, model = mutag_gin
    one = explain_graph(model, dataset, 0, method="saliency")
    with pytest.raises(ValueError, match="at least 2 explanations"):
        agreement([one])
