import argparse
import json

import pytest

from gnnkit.cli import main
from gnnkit.cli.link import add_parser, kg_folder, run
from gnnkit.errors import DataError


@pytest.fixture()
def toy_kg(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "toy_kg"
    folder.mkdir()
    triples = [(f"e{i}", "likes", f"e{(i + 1) % 10}") for i in range(10)]
    triples += [(f"e{i}", "near", f"e{(i + 2) % 10}") for i in range(10)]
    parts = {
        "train.tsv": triples[:16],
        "dev.tsv": triples[16:18],
        "test.tsv": triples[18:],
    }
    for name, rows in parts.items():
        (folder / name).write_text("\n".join("\t".join(t) for t in rows))
    (folder / "entity2text.txt").write_text(
        "\n".join(f"e{i}\tentity number {i}" for i in range(10))
    )
    (folder / "relation2text.txt").write_text("likes\tlikes\nnear\tis near")
    return folder


def parse(argv):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    return parser.parse_args(argv)


def test_link_kg_writes_metrics_report_and_top_links(toy_kg, tmp_path, capsys):
    out = tmp_path / "out"
    args = parse(
        [
            "link",
            "--dataset",
            str(toy_kg),
            "--epochs",
            "2",
            "--hidden",
            "8",
            "--node",
            "e3",
            "--top-k",
            "3",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert run(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "link" and metrics["dataset"] == "toy_kg"
    assert metrics["test"]["count"] == 4  # 2 triples, heads and tails
    assert set(metrics["test"]["tail"]) >= {"mrr", "hits@10"}
    assert metrics["query"] == {"id": "e3", "text": "entity number 3"}
    links = metrics["top_links"]
    assert [link["rank"] for link in links] == [1, 2, 3]
    trained = {("likes", "e4"), ("near", "e5")}
    assert not {(x["relation_id"], x["tail_id"]) for x in links} & trained
    page = (out / "report.html").read_text()
    assert "Top predicted links of e3" in page and "Filtered ranking" in page
    assert "top links of e3" in capsys.readouterr().out


def test_link_unknown_node_is_a_clear_error(toy_kg, tmp_path):
    args = parse(
        [
            "link",
            "--dataset",
            str(toy_kg),
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--node",
            "zz",
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    with pytest.raises(DataError, match="--node 'zz' is not a node"):
        run(args)


def test_kg_folder_finds_shipped_and_rejects_tables(toy_kg):
    assert kg_folder(str(toy_kg)) == toy_kg
    assert kg_folder("UMLS_KG").name == "UMLS_KG"
    assert kg_folder("Cora_TAG") is None


def test_run_task_link_on_a_graph_with_node_texts(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path / "cache"))
    nodes = ["id,text,label"] + [
        f"n{i},paper {i} about topic {i % 3},{i % 3}" for i in range(30)
    ]
    edges = ["source,target"] + [
        f"n{i},n{(i + j) % 30}" for i in range(30) for j in (1, 3)
    ]
    (tmp_path / "nodes.csv").write_text("\n".join(nodes))
    (tmp_path / "edges.csv").write_text("\n".join(edges))
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--task",
            "link",
            "--dataset",
            str(tmp_path / "edges.csv"),
            "--nodes",
            str(tmp_path / "nodes.csv"),
            "--text",
            "text",
            "--model",
            "gcn",
            "--epochs",
            "3",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["roc_auc"] <= 1.0
    assert metrics["test"]["num_pos"] == 6  # 10 % of 60 undirected edges
    assert len(metrics["top_links"]) == 10
    assert metrics["model"]["name"] == "gcn"
