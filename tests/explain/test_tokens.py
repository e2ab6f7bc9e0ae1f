import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError, ModelError
from gnnkit.explain.tokens import explain_text, text_baseline
from gnnkit.explain.words import explain_lm_gnn_node, explain_words
from gnnkit.models.backbones import build_model
from gnnkit.testing.tiny_lm import tiny_bert, tiny_roberta
from gnnkit.text.encoder import TextEncoder

TEXT = "Attention over graph edges"  # C16
TEXTS = [TEXT, "Graph pooling and node classification", None,
         "A language model reads the text"]
EDGES = torch.tensor([[1, 2, 3, 0], [0, 0, 0, 1]])


@pytest.fixture(scope="module")
def encoders(tmp_path_factory):
    root = tmp_path_factory.mktemp("lm")
    return {
        "bert": TextEncoder(tiny_bert(root / "bert")).eval(),
        "roberta": TextEncoder(tiny_roberta(root / "roberta")).eval(),
    }


def _cascade(encoder):
    x = torch.zeros(4, encoder.out_channels)
    with torch.no_grad():
        for i, text in enumerate(TEXTS):
            if text is not None:
                x[i] = encoder.encode([text], progress_bar=False)[0]
    torch.manual_seed(0)
    gnn = build_model("gcn", encoder.out_channels, 3, level="node",
                      hidden_channels=16, num_layers=2).eval()
    return gnn, Data(x=x, edge_index=EDGES)


@pytest.mark.parametrize("name, first, pad, last",
                         [("bert", 101, 0, 102), ("roberta", 0, 1, 2)])
def test_text_baseline_c16(encoders, name, first, pad, last):
    tokenizer = encoders[name].tokenizer
    enc = tokenizer([TEXT, "graph"], padding=True, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    baseline = text_baseline(tokenizer, ids, mask)
    n = int(mask[0].sum())
    assert baseline.shape == ids.shape
    assert baseline[0].tolist() == [first] + [pad] * (n - 2) + [last]
    short = int(mask[1].sum())
    assert baseline[1, :short].tolist() == [first] + [pad] * (
        short - 2) + [last]
    assert baseline[1, short:].tolist() == [pad] * (ids.size(1) - short)
    word_pad = tokenizer.convert_tokens_to_ids("pad")
    if word_pad != tokenizer.unk_token_id:
        assert word_pad not in baseline.tolist()


@pytest.mark.parametrize("name", ["bert", "roberta"])
def test_explain_words_completeness_gap(encoders, name):
    encoder = encoders[name]
    gnn, data = _cascade(encoder)
    result = explain_words(encoder, gnn, data, TEXTS, 0, n_steps=50)
    assert [t.node for t in result.texts][0] == 0  # the node comes first
    assert {t.node for t in result.texts} == {0, 1, 3}  # 2 has no text
    for part in result.texts:
        assert part.relative_gap <= 0.05
        change = part.output - part.baseline_output
        assert part.total == pytest.approx(change, abs=0.05 * abs(change))
        assert part.tokens == encoder.tokenizer.convert_ids_to_tokens(
            encoder.tokenizer(TEXTS[part.node])["input_ids"])
        assert part.special[0] and part.special[-1]
        assert not any(part.special[1:-1])
        assert part.attributions[0] == 0 and part.attributions[-1] == 0
        assert part.target == result.target


def test_explain_words_neighbour_importance_is_blanking_effect(encoders):
    encoder = encoders["bert"]
    gnn, data = _cascade(encoder)
    result = explain_words(encoder, gnn, data, TEXTS, 0)
    ranked = result.neighbours()
    assert abs(ranked[0]["importance"]) >= abs(ranked[-1]["importance"])
    by_node = {t.node: t for t in result.texts}
    part = by_node[3]
    blank = encoder.tokenizer.decode(part.baseline_ids)
    tokens = encoder.tokenizer([TEXTS[3]], return_tensors="pt")
    base = torch.tensor([part.baseline_ids])
    with torch.no_grad():
        x = data.x.clone()
        x[3] = encoder(base, tokens["attention_mask"])[0]
        blanked = gnn(x, data.edge_index)[0, result.target]
        full = gnn(data.x, data.edge_index)[0, result.target]
    assert "[PAD]" in blank
    assert part.total == pytest.approx(float(full - blanked), rel=0.05)


def test_explain_lm_gnn_node_frozen(encoders, tmp_path):
    from gnnkit.models.fusion import LMGNN

    encoder = TextEncoder(tiny_bert(tmp_path / "bert"))
    torch.manual_seed(0)
    model = LMGNN(encoder, 3, strategy="frozen", hidden_channels=16).eval()
    graph = Data(edge_index=EDGES, num_nodes=4, y=torch.tensor([0, 1, 2, 0]))
    dataset = GraphDataset([graph], level="node", texts=[TEXTS],
                           node_ids=[["p0", "p1", "p2", "p3"]])
    result = explain_lm_gnn_node(model, dataset, "p0")
    assert result.node == "p0"
    assert [t.node for t in result.texts][0] == "p0"
    assert all(t.relative_gap <= 0.05 for t in result.texts)
    record = result.to_dict()
    assert record["neighbours"][0]["node"] in {"p0", "p1", "p3"}
    assert record["texts"][0]["tokens"][0]["special"] is True


@pytest.mark.parametrize("lm", [tiny_bert, tiny_roberta])
@pytest.mark.parametrize("strategy", ["lora", "prefix"])
def test_explain_lm_gnn_node_through_peft_adapters(lm, strategy, tmp_path):
    from gnnkit.models.fusion import LMGNN

    encoder = TextEncoder(lm(tmp_path / "lm"))
    torch.manual_seed(0)
    model = LMGNN(encoder, 3, strategy=strategy, hidden_channels=16).eval()
    graph = Data(edge_index=EDGES, num_nodes=4, y=torch.tensor([0, 1, 2, 0]))
    dataset = GraphDataset([graph], level="node", texts=[TEXTS],
                           node_ids=[["p0", "p1", "p2", "p3"]])
    result = explain_lm_gnn_node(model, dataset, "p0", n_steps=64)
    nodes = [t.node for t in result.texts]
    assert nodes[0] == "p0" and sorted(nodes[1:]) == ["p1", "p3"]
    assert all(t.relative_gap <= 0.05 for t in result.texts)


def test_explain_text_lm_classifier(tmp_path):
    from gnnkit.models.lm_classifier import LMNodeClassifier

    model = LMNodeClassifier(tiny_roberta(tmp_path / "rob", num_labels=2),
                             num_classes=2)
    result = explain_text(model, TEXT, n_steps=50)
    assert result.baseline_ids[0] == 0 and result.baseline_ids[-1] == 2
    assert set(result.baseline_ids[1:-1]) == {1}
    assert result.relative_gap <= 0.05
    assert result.target in (0, 1)
    assert len(result.top_words(3)) == 3
    assert not any(r["special"] for r in result.top_words(10))


def test_token_errors(encoders):
    encoder = encoders["bert"]
    gnn, data = _cascade(encoder)
    with pytest.raises(DataError, match="node 2: text must be a non-empty"):
        from gnnkit.explain.tokens import token_attributions

        token_attributions(lambda i, m: i.float(), encoder.lm.embeddings,
                           encoder.tokenizer, "  ", node=2)
    with pytest.raises(DataError, match="node 9 is not in the graph"):
        explain_words(encoder, gnn, data, TEXTS, 9)

    class NoPad:
        pad_token_id = None
        all_special_ids = []

    with pytest.raises(ModelError, match="has no padding token"):
        text_baseline(NoPad(), torch.ones(1, 3, dtype=torch.long),
                      torch.ones(1, 3, dtype=torch.long))
