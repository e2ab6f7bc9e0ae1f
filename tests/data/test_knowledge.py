import gzip

import pytest
import torch

from gnnkit.data.knowledge import read_kg
from gnnkit.errors import DataError


def write_kg(folder, train="a\tr\tb\nb\tr\tc\n", entities=None):
    folder.mkdir()
    (folder / "train.tsv").write_text(train)
    (folder / "dev.tsv").write_text("a\tr\tc\n")
    with gzip.open(folder / "test.tsv.gz", "wt") as handle:
        handle.write("c\ts\ta")
    if entities is not None:
        (folder / "entities.txt").write_text(entities)
        (folder / "relations.txt").write_text("r\ns\n")
    return folder


def test_read_kg_umls_counts_and_texts():
    kg = read_kg("UMLS_KG")
    data = kg[0]
    assert data.num_nodes == 135 and kg.meta["num_relations"] == 46
    assert data.train_triples.shape == (5216, 3)
    assert data.valid_triples.shape == (652, 3)
    assert data.test_triples.shape == (661, 3)
    assert data.edge_index.shape == (2, 5216)
    assert torch.equal(data.edge_type, data.train_triples[:, 1])
    assert kg.node_ids[0][0] == "idea_or_concept"
    assert kg.texts[0][0] == "idea or concept"
    assert kg.meta["relation_texts"][1] == "derivative of"
    first = data.train_triples[0].tolist()
    assert (
        kg.node_ids[0][first[0]],
        kg.meta["relations"][first[1]],
        kg.node_ids[0][first[2]],
    ) == (
        "acquired_abnormality",
        "location_of",
        "experimental_model_of_disease",
    )


def test_read_kg_long_entity_text():
    kg = read_kg("UMLS_KG", entity_text="entity2textlong.txt")
    assert len(kg.texts[0][0]) > 100


def test_read_kg_without_lists_grows_ids_and_reads_gzip(tmp_path):
    with pytest.warns(UserWarning) as record:
        kg = read_kg(write_kg(tmp_path / "kg"), entity_text="none.txt")
    messages = [str(w.message) for w in record]
    assert messages[0].startswith("3 entities have no text")
    assert messages[1].startswith("2 relations have no text")
    assert kg.node_ids[0] == ["a", "b", "c"]
    assert kg.meta["relations"] == ["r", "s"]
    assert kg[0].test_triples.tolist() == [[2, 1, 0]]
    assert kg.texts[0] == ["a", "b", "c"]
    assert kg.name == "kg"


def test_read_kg_errors_name_file_and_line(tmp_path):
    folder = write_kg(tmp_path / "bad", train="a\tr\tb\nb\tr\n")
    with pytest.raises(
        DataError,
        match=r"train.tsv, line 2: expected "
        r"head<TAB>relation<TAB>tail",
    ):
        read_kg(folder)
    folder = write_kg(tmp_path / "unknown", entities="a\nb\n")
    with pytest.raises(
        DataError,
        match=r"line 2, field 'tail': tail 'c' "
        r"is not listed in entities.txt",
    ):
        read_kg(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="missing train.tsv"):
        read_kg(tmp_path / "empty")
    with pytest.raises(DataError, match="not a folder, nor a shipped"):
        read_kg(tmp_path / "nowhere")
