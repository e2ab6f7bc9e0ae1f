import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError
from gnnkit.models.lm_classifier import (
    LMGraphClassifier,
    LMNodeClassifier,
    graph_texts,
    graph_to_text,
)
from gnnkit.testing.tiny_lm import tiny_bert
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.text_tasks import TextGraphTask, TextNodeTask

pytestmark = pytest.mark.usefixtures("one_thread")

WORDS = ["paper about graphs", "results", "model", "idea"]
TEXTS = [f"{tone} {w}" for w in WORDS for tone in ("good", "bad")] * 3
LABELS = torch.tensor([0, 1] * 12)


@pytest.fixture(scope="module")
def bert_path(tmp_path_factory):
    return tiny_bert(tmp_path_factory.mktemp("tiny_cls"), num_labels=2)


def test_lm_node_classifier_shapes_and_repr(bert_path):
    model = LMNodeClassifier(bert_path, num_classes=2)
    assert repr(model) == (
        f"LMNodeClassifier(name_or_path='{bert_path}', num_classes=2, "
        "max_length=64)"
    )
    assert model.config["kind"] == "lm_node_classifier"
    batch = model.tokenizer(["good idea", "bad"], padding=True,
                            return_tensors="pt")
    model.eval()
    logits = model(batch["input_ids"], batch["attention_mask"])
    assert logits.shape == (2, 2)
    embeds = model.lm.get_input_embeddings()(batch["input_ids"])
    by_embeds = model(None, batch["attention_mask"], embeds)
    assert torch.allclose(logits, by_embeds, atol=1e-6)


def test_lm_node_classifier_learns_with_fit(bert_path):
    model = LMNodeClassifier(bert_path, num_classes=2)
    task = TextNodeTask(TEXTS, LABELS, range(16), range(16, 24),
                        tokenizer=model.tokenizer, batch_size=4)
    config = TrainConfig(lr=1e-2, epochs=10, weight_decay=0,
                         progress_bar=False)
    result = fit(model, task, config)
    assert result.monitor == "val_accuracy"
    assert result.best_score == 1.0
    assert result.history[-1]["loss"] < 0.2
    logits = model.predict_logits(["good results", "bad model"])
    assert logits.argmax(-1).tolist() == [0, 1]
    assert not model.training


def test_text_node_task_batches_are_padded(bert_path):
    model = LMNodeClassifier(bert_path, num_classes=2)
    task = TextNodeTask(["a b c", "d", "e f"], torch.tensor([0, 1, 0]),
                        [0, 1, 2], [0], tokenizer=model.tokenizer,
                        batch_size=2)
    batches = task.train_batches(torch.Generator().manual_seed(0))
    assert [b["input_ids"].size(0) for b in batches] == [2, 1]
    total = sum(int(b["attention_mask"].sum()) for b in batches)
    assert total == 5 + 3 + 4  # [CLS] ... [SEP] per text
    first = batches[0]
    assert torch.equal(first["input_ids"][first["attention_mask"] == 0],
                       torch.zeros(int((first["attention_mask"] == 0)
                                       .sum()), dtype=torch.long))


def test_text_node_task_errors_and_truncation(bert_path):
    model = LMNodeClassifier(bert_path, num_classes=2)
    tok = model.tokenizer
    with pytest.raises(DataError, match="missing: b"):
        TextNodeTask(["x", None], [0, 1], [0], [1], tokenizer=tok,
                     node_ids=["a", "b"])
    with pytest.raises(DataError, match="y has 3 labels but there are 2"):
        TextNodeTask(["x", "y"], [0, 1, 0], [0], [1], tokenizer=tok)
    with pytest.warns(UserWarning, match=r"text 1 \(4 tokens dropped\)"):
        task = TextNodeTask(["x", "a b c d e f g h"], [0, 1], [0], [1],
                            tokenizer=tok, max_length=6)
    assert len(task.ids[1]) == 6


def test_graph_to_text_formats():
    path = Data(x=torch.eye(3), edge_index=torch.tensor([[0, 1, 1, 2],
                                                         [1, 0, 2, 1]]))
    assert graph_to_text(path) == (
        "3 nodes, 2 edges. nodes: 0 t0, 1 t1, 2 t2. edges: 0-1, 1-2."
    )
    arrow = Data(edge_index=torch.tensor([[1], [0]]), num_nodes=2)
    assert graph_to_text(arrow, ["C", "O"]) == (
        "2 nodes, 1 edges. nodes: 0 C, 1 O. edges: 1->0."
    )
    assert graph_to_text(arrow, smiles="CO") == "CO"
    with pytest.raises(ValueError, match="node_names has 1 entries"):
        graph_to_text(arrow, ["C"])


def two_kinds_dataset():
    graphs = []
    for i in range(12):
        kind = i % 2
        x = torch.zeros(3, 2)
        x[:, kind] = 1.0
        edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        graphs.append(Data(x=x, edge_index=edge_index,
                           y=torch.tensor([kind])))
    return GraphDataset(graphs, level="graph", classes=["a", "b"])


def test_lm_graph_classifier_learns_graph_texts(bert_path):
    dataset = two_kinds_dataset()
    assert graph_texts(dataset)[1].startswith("3 nodes, 2 edges. nodes: 0 t1")
    model = LMGraphClassifier(bert_path, num_classes=2)
    task = TextGraphTask(dataset, range(8), range(8, 12),
                         tokenizer=model.tokenizer, batch_size=4)
    config = TrainConfig(lr=1e-2, epochs=10, weight_decay=0,
                         progress_bar=False)
    assert fit(model, task, config).best_score == 1.0


def test_text_graph_task_rejects_node_level(bert_path):
    dataset = GraphDataset([Data(x=torch.zeros(2, 1))], level="node",
                           name="cora")
    with pytest.raises(DataError, match="'cora' is not a graph class"):
        TextGraphTask(dataset, [0], [0], tokenizer=None)


def test_graph_texts_prefers_smiles():
    dataset = two_kinds_dataset()
    dataset.graph_texts = [f"C{i}" for i in range(12)]
    assert graph_texts(dataset)[:2] == ["C0", "C1"]


def test_lm_node_classifier_saved_and_loaded_with_label_names(bert_path,
                                                              tmp_path):
    from gnnkit.models.persist import load_model, save_model

    torch.manual_seed(0)
    model = LMNodeClassifier(bert_path, 2, max_length=16)
    model.classes = ["cat", "dog"]
    texts = ["a cat", "two dogs bark"]
    save_model(tmp_path / "m", model)

    loaded, info = load_model(tmp_path / "m")

    assert info["kind"] == "lm_node_classifier"
    assert info["classes"] == ["cat", "dog"] and loaded.classes == ["cat",
                                                                    "dog"]
    assert torch.allclose(loaded.predict_logits(texts),
                          model.predict_logits(texts), atol=1e-6)


def test_hf_folder_with_default_labels_gives_class_numbers(tmp_path):
    from gnnkit.models.persist import load_model

    model = LMNodeClassifier(tiny_bert(tmp_path / "bert"), 3, max_length=16)
    model.lm.save_pretrained(str(tmp_path / "m"))
    model.tokenizer.save_pretrained(str(tmp_path / "m"))

    loaded, info = load_model(tmp_path / "m")

    assert info["classes"] == [0, 1, 2] and loaded.num_classes == 3


def test_hf_encoder_folder_is_not_loaded_as_a_classifier(tmp_path):
    from gnnkit.errors import ModelError
    from gnnkit.models.persist import load_model

    with pytest.raises(ModelError, match="config.json: a Hugging Face "
                       r"\['BertModel'\] folder, not a gnnkit model"):
        load_model(tiny_bert(tmp_path / "bert"))
