import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.explain.attention import LayerAttention
from gnnkit.viz.app import crop_attention, head_view, item_choices
from gnnkit.viz.dashboard import PLOTLY_MIME, TrainingDashboard
from gnnkit.viz.explorer import ExplanationExplorer


@pytest.fixture(scope="module")
def gat_run():
    dash = TrainingDashboard("MUTAG", "gat", epochs=3, hidden_channels=8,
                             num_layers=2)
    dash.run()
    return dash.prepared


def _node_colours(pane):
    return list(pane.figure.data[-1].marker.color)


def _shown_title(pane):
    (output,) = pane.output.outputs
    return output["data"][PLOTLY_MIME]["layout"]["title"]["text"]


def test_item_choices_label_graphs_and_nodes():
    graphs = [Data(x=torch.ones(2, 1), edge_index=torch.zeros(2, 0).long(),
                   y=torch.tensor([c])) for c in (0, 1, 1)]
    dataset = GraphDataset(graphs, name="g", classes=["no", "yes"],
                           graph_ids=["a", "b", "c"])
    assert item_choices(dataset, [2, 0]) == [
        ("graph c (label yes)", 2), ("graph a (label no)", 0)]
    nodes = GraphDataset([Data(x=torch.ones(3, 1), y=torch.tensor([1, 0, 1]),
                               edge_index=torch.zeros(2, 0).long())],
                         level="node", classes=["n", "p"],
                         node_ids=[["u", "v", "w"]])
    assert item_choices(nodes, limit=2) == [
        ("node u (label p)", "u"), ("node v (label n)", "v")]


def _toy_layer() -> LayerAttention:
    # path 0 -> 1 -> 2 -> 3, two heads, loops added on every node
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 3]])
    alpha = torch.tensor([[0.3, 0.1], [0.6, 0.2], [0.5, 0.4]])
    loop_alpha = torch.tensor([[1.0, 1.0], [0.7, 0.9], [0.4, 0.8],
                               [0.5, 0.6]])
    return LayerAttention(0, edge_index, alpha, torch.zeros(3).bool(),
                          torch.arange(4), loop_alpha, ["a", "b", "c", "d"])


def test_crop_attention_keeps_edges_inside_subset_relabelled():
    cropped = crop_attention(_toy_layer(), torch.tensor([1, 2, 3]))
    assert cropped.node_ids == ["b", "c", "d"]
    assert cropped.edge_index.tolist() == [[0, 1], [1, 2]]
    layer = _toy_layer()
    assert torch.equal(cropped.alpha, layer.alpha[1:])
    assert cropped.loop_nodes.tolist() == [0, 1, 2]
    assert torch.equal(cropped.loop_alpha, layer.loop_alpha[1:])


def test_head_view_picks_one_head_or_reduces():
    layer = _toy_layer()
    assert head_view(layer, 1).alpha.view(-1).tolist() == \
        pytest.approx([0.1, 0.2, 0.4])
    assert head_view(layer, "max").alpha.view(-1).tolist() == \
        pytest.approx([0.3, 0.6, 0.5])
    assert head_view(layer, "mean").loop_alpha.view(-1).tolist() == \
        pytest.approx([1.0, 0.8, 0.6, 0.55])


def test_explorer_graph_view_and_attention_follow_choices(gat_run):
    explorer = ExplanationExplorer.from_run(gat_run, n_steps=8)
    values = [v for _, v in explorer.item.options]
    assert values == gat_run.val_index.tolist()
    result = explorer.attribution
    assert result.item == gat_run.dataset.graph_ids[values[0]]
    assert _node_colours(explorer.graph_pane) == pytest.approx(
        result.node_importance.tolist())
    assert explorer.status.value.startswith(f"graph {result.item}: target")
    assert explorer.layer.options == (0, 1)
    assert explorer.head.options == ("mean", "max", 0, 1, 2, 3)

    explorer.head.value = 2
    explorer.layer.value = 1
    layer = explorer.layers[1]
    grid = explorer.attention_pane.figure.data[0].z
    src, dst = layer.edge_index[:, 0].tolist()
    assert grid[dst][src] == pytest.approx(float(layer.alpha[0, 2]))
    assert explorer.attention_pane.figure.layout.annotations[0].text == \
        "head 2"
    assert _shown_title(explorer.attention_pane).endswith("layer 1, per head")

    explorer.method.value = "saliency"
    assert explorer.attribution.method == "saliency"
    explorer.item.value = values[1]
    assert explorer.attribution.item == gat_run.dataset.graph_ids[values[1]]
    assert explorer.token_pane.figure.layout.annotations[0].text.startswith(
        "No token view")


def test_explorer_without_attention_disables_layer_and_head():
    dash = TrainingDashboard("MUTAG", "gin", epochs=1, hidden_channels=8,
                             num_layers=1)
    dash.run()
    explorer = ExplanationExplorer.from_run(dash.prepared, n_steps=4,
                                            methods=["saliency"])
    assert explorer.layer.disabled and explorer.head.disabled
    text = explorer.attention_pane.figure.layout.annotations[0].text
    assert text == "No attention: the model has no GAT layer."


def _cliques() -> GraphDataset:
    edges = [(i, j) for c in (0, 5) for i in range(c, c + 5)
             for j in range(c, c + 5) if i != j] + [(4, 5), (5, 4)]
    y = torch.tensor([0] * 5 + [1] * 5)
    words = ["graph pooling readout", "message passing layer"]
    return GraphDataset(
        [Data(x=torch.ones(10, 1), edge_index=torch.tensor(edges).t(), y=y)],
        level="node", name="cliques", classes=["a", "b"],
        node_ids=[[f"n{i}" for i in range(10)]],
        texts=[[f"{words[int(c)]} {i}" for i, c in enumerate(y)]],
    )  # fmt: skip


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from gnnkit.testing.tiny_lm import tiny_bert

    return str(tiny_bert(tmp_path_factory.mktemp("tiny_bert")))


def test_explorer_node_level_crops_attention_and_explains_words(tiny_lm):
    dash = TrainingDashboard(_cliques(), "gat", epochs=2, hidden_channels=8,
                             num_layers=1, lm_path=tiny_lm, cache=False)
    dash.run()
    explorer = ExplanationExplorer.from_run(dash.prepared, items=[0, 5],
                                            n_steps=4, max_texts=2)
    (layer,) = explorer.layers
    assert layer.node_ids == [f"n{i}" for i in range(5)]  # 1-hop of n0
    assert layer.incoming_sums()["n0"].tolist() == pytest.approx([1.0] * 4)
    assert [t.node for t in explorer.words.texts][0] == "n0"
    assert len(explorer.words.texts) == 2
    assert explorer.token_pane.figure.data[0].y[0] == "node n0"


@pytest.mark.parametrize("strategy", ["top-2", "lora"])
def test_explorer_from_joint_run_explains_gnn_on_lm_embeddings(tiny_lm,
                                                               strategy):
    dash = TrainingDashboard(_cliques(), "gat", epochs=1, hidden_channels=8,
                             num_layers=1, lm_path=tiny_lm, batch_size=4,
                             steps_per_epoch=1)
    dash.lm_strategy.value = strategy
    dash.run()
    explorer = ExplanationExplorer.from_run(dash.prepared, items=[5],
                                            n_steps=4, max_texts=1)
    assert explorer.model is dash.prepared.model.gnn
    assert explorer.dataset.graphs[0].x.shape == (10, 32)
    assert dash.prepared.dataset.graphs[0].x.shape == (10, 1)  # untouched
    assert explorer.attribution.item == "n5"
    assert explorer.words.texts[0].node == "n5"  # LoRA's adapters too
    assert explorer.token_pane.figure.data[0].y[0] == "node n5"
