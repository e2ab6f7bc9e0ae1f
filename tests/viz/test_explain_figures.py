import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.shipped import load_dataset
from gnnkit.explain.attention import gat_attention, text_attention
from gnnkit.explain.attributions import explain_graph
from gnnkit.explain.words import explain_words
from gnnkit.models.backbones import build_model
from gnnkit.testing.tiny_lm import tiny_bert
from gnnkit.text.encoder import TextEncoder
from gnnkit.viz.explain_figures import (
    attention_figure,
    attention_heatmaps,
    attribution_figure,
    explanation_page,
    explanation_section,
    subgraph_figure,
    text_attention_heatmap,
    token_heatmap,
    top_k_table,
)

PLOTLY_JS = "* plotly.js v"


@pytest.fixture(scope="module")
def mutag_model():
    dataset = load_dataset("MUTAG")
    torch.manual_seed(0)
    return dataset, build_model("gin", 7, 2, hidden_channels=16).eval()


def test_subgraph_figure_widths_and_colours():
    edge_index = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 2]])
    fig = subgraph_figure(["a", "b", "c"], edge_index,
                          node_values=torch.tensor([0.5, -1.0, 0.0]),
                          edge_values=torch.tensor([0.2, -0.4, 0.1, 9.0]),
                          title="t")
    widths = [a.arrowwidth for a in fig.layout.annotations]
    assert len(widths) == 3  # the self-loop c -> c has no arrow
    assert widths == pytest.approx([0.5 + 6 * 0.2 / 9, 0.5 + 6 * 0.4 / 9,
                                    0.5 + 6 * 0.1 / 9])
    nodes = fig.data[-1]
    assert list(nodes.text) == ["a", "b", "c"]
    assert list(nodes.marker.color) == [0.5, -1.0, 0.0]
    assert nodes.marker.cmin == -1.0 and nodes.marker.cmax == 1.0
    assert "a → b<br>importance: 0.2" in fig.data[0].hovertext[0]


def test_attribution_figure_and_table(mutag_model):
    dataset, model = mutag_model
    result = explain_graph(model, dataset, 3, method="saliency")
    fig = attribution_figure(result)
    assert len(fig.layout.annotations) == 44
    assert list(fig.data[-1].text) == [str(i) for i in range(44, 63)]
    table = top_k_table(result, k=3)
    assert table.count("<tr>") == 2 * (1 + 3)
    assert str(result.top_nodes(1)[0]["node"]) in table


def test_explanation_page_inlines_plotly_once(mutag_model, tmp_path):
    dataset, model = mutag_model
    results = [explain_graph(model, dataset, i, method="saliency")
               for i in (3, 35)]
    page = explanation_page(results, "Why?")
    text = page.to_html()
    assert text.count(PLOTLY_JS) == 1
    assert "Graph 4 (saliency)" in text and "Graph 36 (saliency)" in text
    assert "fidelity+" in text
    path = page.write(tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text() == text and path


def test_explanation_section_for_run_report(mutag_model):
    dataset, model = mutag_model
    section = explanation_section(model, dataset, [3, 35], method="saliency")
    assert PLOTLY_JS not in section
    assert "<h3>Graph 4</h3>" in section and "<h3>Graph 36</h3>" in section
    assert section.count('class="plotly-graph-div"') == 2


def test_attention_views():
    torch.manual_seed(0)
    model = build_model("gat", 2, 2, level="node", num_layers=1, heads=2,
                        hidden_channels=4).eval()
    data = Data(x=torch.randn(3, 2),
                edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]))
    (layer,) = gat_attention(model, data)
    heat = attention_heatmaps(layer)
    assert len(heat.data) == 2
    grid = torch.tensor(heat.data[1].z, dtype=torch.float)
    assert grid[1, 0] == pytest.approx(float(layer.alpha[0, 1]))
    assert grid[0, 0] == pytest.approx(float(layer.loop_alpha[0, 1]))
    assert torch.isnan(grid[0, 1])  # no edge 1 -> 0
    fig = attention_figure(layer, how=1)
    assert len(fig.layout.annotations) == 3
    assert fig.data[0].hovertext[0].startswith("0 → 1<br>attention")


def test_token_views(tmp_path):
    encoder = TextEncoder(tiny_bert(tmp_path / "bert")).eval()
    texts = ["graph edges", "node text here"]
    x = encoder.encode(texts, progress_bar=False)
    torch.manual_seed(0)
    gnn = build_model("gcn", 32, 2, level="node", num_layers=1).eval()
    data = Data(x=x, edge_index=torch.tensor([[1], [0]]))
    words = explain_words(encoder, gnn, data, texts, 0, n_steps=8)
    fig = token_heatmap(words)
    assert list(fig.data[0].y) == ["node 0", "node 1"]
    assert fig.data[0].text[0][:4] == ["[CLS]", "graph", "edges", "[SEP]"]
    assert fig.data[0].z[0][4] is None  # padding of the shorter text
    att = text_attention_heatmap(text_attention(encoder, "graph edges"))
    assert list(att.data[0].x) == ["[CLS]", "graph", "edges", "[SEP]"]
