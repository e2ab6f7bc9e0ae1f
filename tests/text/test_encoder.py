import warnings
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError, ModelError
from gnnkit.testing.tiny_lm import tiny_bert, tiny_roberta
from gnnkit.text.encoder import (
    TextEncoder,
    _pool,
    default_model_path,
    encode_dataset,
    load_lm,
)

pytestmark = pytest.mark.usefixtures("one_thread")

CASES = Path(__file__).resolve().parents[1] / "cases"


@pytest.fixture(scope="module")
def tiny_paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny_lm")
    return {
        "bert": tiny_bert(root / "bert"),
        "roberta": tiny_roberta(root / "roberta"),
    }


@pytest.fixture(scope="module")
def minilm():
    return TextEncoder(max_length=None)


def c12_texts():
    frame = pd.read_csv(CASES / "C12" / "nodes.csv", keep_default_na=False)
    return list(frame["text"]), list(frame["id"])


def c10_texts():
    # Literal words stay text; only empty or blank cells are missing.
    frame = pd.read_csv(
        CASES / "C10" / "nodes.csv", keep_default_na=False, dtype=str
    )
    texts = [t if t.strip() else None for t in frame["text"]]
    return texts, list(frame["id"])


def test_default_model_path_is_shipped_minilm():
    assert (Path(default_model_path()) / "config.json").is_file()


def test_load_lm_unknown_name_raises_model_error():
    with pytest.raises(ModelError, match="neither a local model folder nor"):
        load_lm("no-such-user/no-such-model")


def test_load_lm_folder_without_config_raises(tmp_path):
    with pytest.raises(ModelError, match="holds no config.json"):
        load_lm(tmp_path)


def test_load_lm_folder_without_weights_raises(tiny_paths, tmp_path):
    (tmp_path / "config.json").write_text(
        (tiny_paths["bert"] / "config.json").read_text()
    )
    with pytest.raises(ModelError, match="Could not load the model in"):
        load_lm(tmp_path)


def test_load_lm_bad_task_raises():
    with pytest.raises(ValueError, match="task must be one of"):
        load_lm(task="token-classification")


def test_load_lm_sequence_classification(tiny_paths):
    model, tokenizer = load_lm(
        tiny_paths["bert"], task="sequence-classification", num_labels=3
    )
    batch = tokenizer(["graph"], return_tensors="pt")
    assert model(**batch).logits.shape == (1, 3)


def test_text_encoder_rejects_bad_arguments(tiny_paths):
    with pytest.raises(ValueError, match="pooling must be one of"):
        TextEncoder(tiny_paths["bert"], pooling="sum")
    with pytest.raises(ValueError, match="model and tokenizer together"):
        TextEncoder(model=torch.nn.Linear(2, 2))


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_text_encoder_usable_length_is_64(tiny_paths, kind):
    encoder = TextEncoder(tiny_paths[kind])
    assert encoder.max_length == 64
    assert encoder.out_channels == 32
    assert TextEncoder(tiny_paths[kind], max_length=16).max_length == 16


def test_text_encoder_repr(tiny_paths):
    encoder = TextEncoder(tiny_paths["bert"], pooling="cls")
    assert repr(encoder) == (
        f"TextEncoder('{tiny_paths['bert']}', pooling='cls', "
        "max_length=64, out_channels=32)"
    )


def test_tokenize_truncates_and_warns_once(tiny_paths):
    encoder = TextEncoder(tiny_paths["bert"])
    texts, ids = c12_texts()
    full = len(encoder.tokenizer(texts[1], verbose=False)["input_ids"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = encoder.tokenize(texts, node_ids=ids)
    assert batch["input_ids"].shape == (3, 64)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"t1 ({full - 64} tokens dropped)" in message
    assert message.startswith("1 of 3 texts")


def test_pool_ignores_padding():
    hidden = torch.tensor([[[1.0, 2.0], [3.0, -4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(_pool(hidden, mask, "mean"), torch.tensor([[2.0, -1]]))
    assert torch.equal(_pool(hidden, mask, "max"), torch.tensor([[3.0, 2]]))
    assert torch.equal(_pool(hidden, mask, "cls"), torch.tensor([[1.0, 2]]))


@pytest.mark.parametrize("kind", ["bert", "roberta"])
@pytest.mark.parametrize("pooling", ["mean", "max", "cls"])
def test_encode_c12_batched_equals_alone(tiny_paths, kind, pooling):
    encoder = TextEncoder(tiny_paths[kind], pooling=pooling)
    texts, ids = c12_texts()
    with pytest.warns(UserWarning, match=r"t1 \(\d+ tokens dropped\)"):
        x = encoder.encode(texts, node_ids=ids, batch_size=3)
    assert x.shape == (3, 32)
    for i in (0, 2):
        alone = encoder.encode([texts[i]], progress_bar=False)
        assert torch.allclose(x[i], alone[0], atol=1e-5)


@pytest.mark.parametrize("kind", ["bert", "roberta"])
def test_encode_c12_truncated_equals_first_tokens(tiny_paths, kind):
    encoder = TextEncoder(tiny_paths[kind])
    texts, ids = c12_texts()
    with pytest.warns(UserWarning, match="t1"):
        x = encoder.encode(texts, node_ids=ids, batch_size=3)
    full = encoder.tokenizer(texts[1], verbose=False)["input_ids"]
    head = torch.tensor([full[:63] + full[-1:]])  # [1, 64], closing token
    with torch.no_grad():
        alone = encoder(head, torch.ones_like(head))
    assert torch.allclose(x[1], alone[0], atol=1e-5)


def test_forward_inputs_embeds_matches_input_ids(tiny_paths):
    encoder = TextEncoder(tiny_paths["bert"]).eval()
    batch = encoder.tokenize(["graph pooling", "a much longer text here"])
    embeds = encoder.lm.get_input_embeddings()(batch["input_ids"])
    with torch.no_grad():
        by_ids = encoder(batch["input_ids"], batch["attention_mask"])
        by_embeds = encoder(None, batch["attention_mask"], embeds)
    assert by_ids.shape == (2, 32)
    assert torch.allclose(by_ids, by_embeds, atol=1e-6)


def test_encode_restores_input_order_and_mode(tiny_paths):
    encoder = TextEncoder(tiny_paths["bert"])
    assert not encoder.training and not encoder.lm.training
    encoder.train()
    texts = ["a", "graph neural networks on citation data", "node", "b c d"]
    x = encoder.encode(texts, batch_size=2, progress_bar=False)
    assert encoder.training and encoder.lm.training
    encoder.eval()
    for i, text in enumerate(texts):
        alone = encoder.encode([text], progress_bar=False)
        assert torch.allclose(x[i], alone[0], atol=1e-5)
    assert encoder.encode([], progress_bar=False).shape == (0, 32)


def test_encode_c10_missing_texts_error(tiny_paths):
    encoder = TextEncoder(tiny_paths["bert"])
    texts, ids = c10_texts()
    assert texts[3:5] == ["NA", "None"] and texts[6] == "null"
    with pytest.raises(DataError, match=r"2 of 7 node texts are missing: "
                       r"n2, n5\. .*missing='empty'"):
        encoder.encode(texts, node_ids=ids, progress_bar=False)


def test_encode_c10_missing_empty_policy(tiny_paths):
    encoder = TextEncoder(tiny_paths["bert"])
    texts, ids = c10_texts()
    with pytest.warns(UserWarning, match="missing: n2, n5; encoding them"):
        x = encoder.encode(texts, node_ids=ids, missing="empty")
    assert x.shape == (7, 32)
    assert torch.allclose(x[2], x[5], atol=1e-6)
    assert not torch.allclose(x[2], x[3], atol=1e-3)
    literal = encoder.encode(["NA", "None", "null"], progress_bar=False)
    assert torch.allclose(x[[3, 4, 6]], literal, atol=1e-5)
    assert not torch.allclose(x[3], x[4], atol=1e-3)
    empty = encoder.encode([""], progress_bar=False)
    assert torch.allclose(x[2], empty[0], atol=1e-5)


def test_encode_treats_nan_as_missing_and_rejects_numbers(tiny_paths):
    encoder = TextEncoder(tiny_paths["bert"])
    with pytest.raises(DataError, match="missing: text 1"):
        encoder.encode(["a", float("nan")], progress_bar=False)
    with pytest.raises(DataError, match="text of b has type int"):
        encoder.encode(["a", 5], node_ids=["a", "b"], progress_bar=False)
    with pytest.raises(ValueError, match="missing must be"):
        encoder.encode(["a"], missing="skip")


def test_identity_tracks_pooling_length_and_weights(tiny_paths):
    encoder = TextEncoder(tiny_paths["bert"])
    identity = encoder.identity
    assert identity.endswith("|pooling=mean|max_length=64")
    assert TextEncoder(tiny_paths["bert"]).identity == identity
    assert TextEncoder(tiny_paths["bert"], pooling="cls").identity != identity
    assert TextEncoder(tiny_paths["bert"], max_length=32).identity != identity
    with torch.no_grad():
        encoder.lm.pooler.dense.bias.add_(1.0)
    assert encoder.identity != identity
    other, tokenizer = load_lm(tiny_paths["bert"])
    given = TextEncoder("tiny", model=other, tokenizer=tokenizer)
    with torch.no_grad():
        other.pooler.dense.bias.add_(1.0)
    assert given.identity.split("|")[2] == encoder.identity.split("|")[2]


def test_encode_dataset_replaces_x(tiny_paths):
    edge_index = torch.tensor([[0, 1], [1, 2]])
    graph = Data(x=torch.zeros(3, 1), edge_index=edge_index)
    dataset = GraphDataset(
        [graph], level="node", node_ids=[["p", "q", "r"]],
        texts=[["graph pooling", "NA", "message passing"]],
    )
    encoder = TextEncoder(tiny_paths["bert"])
    out = encode_dataset(dataset, encoder, progress_bar=False)
    assert out.num_features == 32 and dataset.num_features == 1
    expected = encoder.encode(dataset.texts[0], progress_bar=False)
    assert torch.allclose(out.graphs[0].x, expected, atol=1e-5)
    assert out.meta["text_encoder"] == encoder.identity
    assert torch.equal(out.graphs[0].edge_index, graph.edge_index)


def test_encode_dataset_without_texts_raises(tiny_paths):
    dataset = GraphDataset([Data(x=torch.zeros(2, 1))], name="plain")
    with pytest.raises(DataError, match="'plain' has no node texts"):
        encode_dataset(dataset, TextEncoder(tiny_paths["bert"]))


def test_minilm_c12_truncates_at_512(minilm):
    texts, ids = c12_texts()
    full = len(minilm.tokenizer(texts[1], verbose=False)["input_ids"])
    assert minilm.max_length == 512
    with pytest.warns(UserWarning, match=rf"t1 \({full - 512} tokens"):
        x = minilm.encode(texts, node_ids=ids, batch_size=3)
    assert x.shape == (3, 384)


def test_minilm_matches_sentence_transformers(minilm):
    from sentence_transformers import SentenceTransformer

    frame = pd.read_json(
        CASES.parents[1] / "data" / "Cora_TAG" / "nodes.jsonl.gz",
        lines=True, nrows=3,
    )
    texts = [t[:300] for t in frame["text"]]
    ours = minilm.encode(texts, progress_bar=False)
    st = SentenceTransformer(default_model_path(), device="cpu")
    theirs = st.encode(texts, convert_to_tensor=True)
    ours = torch.nn.functional.normalize(ours, dim=-1)
    assert ours.shape == (3, 384)
    assert torch.allclose(ours, theirs, atol=1e-4)


def test_encode_dataset_c10_through_csv_reader(tiny_paths):
    from gnnkit.data.tables import read_csv_graph

    edges, nodes = CASES / "C10" / "edges.csv", CASES / "C10" / "nodes.csv"
    with pytest.raises(DataError, match="n2, n5"):
        read_csv_graph(edges, nodes, text="text")
    with pytest.warns(UserWarning, match="n2, n5"):
        dataset = read_csv_graph(edges, nodes, text="text",
                                 missing_text="empty")
    encoder = TextEncoder(tiny_paths["bert"])
    x = encode_dataset(dataset, encoder, progress_bar=False).graphs[0].x
    assert x.shape == (7, 32)
    assert torch.allclose(x[2], x[5], atol=1e-6)
    assert not torch.allclose(x[2], x[3], atol=1e-3)
    literal = encoder.encode(["NA", "None", "null"], progress_bar=False)
    assert torch.allclose(x[[3, 4, 6]], literal, atol=1e-5)
