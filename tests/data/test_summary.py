from pathlib import Path

import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.summary import summarize, summary_table
from gnnkit.data.tu import read_tu

SIGNED = Path(__file__).resolve().parents[2] / "tests/cases/C02/SIGNED"


def quirky():
    # Rows: 0-1 both ways, 1-2 both ways, self-loop 2-2, 0->1 repeated;
    # node 3 is isolated.
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 2, 1]])
    graph = Data(x=torch.ones(4, 3), edge_index=edge_index,
                 y=torch.tensor([0, 1, 1, 0]), num_nodes=4)
    return GraphDataset([graph], level="node", name="quirky",
                        classes=["a", "b"],
                        texts=[["x", "", None, "NA"]])


def test_summarize_tiny_graph_exact():
    s = summarize(quirky())
    assert s["graphs"] == 1
    assert s["nodes"] == {"total": 4, "mean": 4.0, "min": 4, "max": 4}
    assert s["edges"] == {"directed": 6, "undirected": 3, "symmetric": True}
    assert s["num_features"] == 3 and s["num_edge_features"] == 0
    assert s["num_classes"] == 2 and s["classes"] == ["a", "b"]
    assert s["class_counts"] == {"a": 2, "b": 2}
    assert s["class_fractions"] == {"a": 0.5, "b": 0.5}
    assert s["majority_fraction"] == 0.5
    assert s["degree"] == {"mean": 1.5, "median": 2.0, "max": 2}
    assert s["isolated_nodes"] == 1
    assert s["self_loops"] == 1
    assert s["duplicate_edges"] == 1
    assert s["duplicate_edges_removed"] is None
    assert s["texts"] == {"with_text": 2, "missing": 2}


def test_summarize_asymmetric_has_no_undirected_count():
    graph = Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=3,
                 x=torch.ones(3, 1))
    s = summarize(GraphDataset([graph], level="node"))
    assert s["edges"] == {"directed": 2, "undirected": None,
                          "symmetric": False}
    assert s["class_counts"] is None and s["texts"] is None


def test_summarize_graph_level_signed():
    s = summarize(read_tu(SIGNED))
    assert s["nodes"] == {"total": 10, "mean": 2.5, "min": 2, "max": 3}
    assert s["edges"]["directed"] == 14 and s["edges"]["undirected"] == 7
    assert s["class_counts"] == {-1: 2, 1: 2} and s["classes"] == [-1, 1]


def test_summarize_regression_target():
    graphs = [Data(x=torch.ones(1, 1), edge_index=torch.zeros(2, 0).long(),
                   y=torch.tensor([v])) for v in (1.0, 3.0)]
    s = summarize(GraphDataset(graphs, classes=None))
    assert s["target"] == {"mean": 2.0, "min": 1.0, "max": 3.0, "std": 1.0}


def test_summary_table_aligned_lines():
    table = summary_table(summarize(quirky()))
    lines = table.splitlines()
    assert lines[0] == "dataset                quirky (node level, " \
                       "classification)"
    assert "class counts           a: 2 (50.0%), b: 2 (50.0%)" in lines
    assert "nodes with text        2 (2 missing)" in lines
    assert len({line.index(line.split("  ")[-1].strip()) for line in lines
                if "  " in line}) == 1


def test_summary_table_reports_edges_removed_on_reading(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    files = {"A": "1, 2\n2, 1\n1, 2\n2, 1\n", "graph_indicator": "1\n1\n",
             "graph_labels": "0\n"}
    for key, text in files.items():
        (raw / f"D_{key}.txt").write_text(text)
    s = summarize(read_tu(tmp_path))
    assert s["duplicate_edges"] == 0 and s["duplicate_edges_removed"] == 2
    assert "duplicate edges        0 (2 removed on reading)" in (
        summary_table(s).splitlines())
    kept = summarize(read_tu(tmp_path, dedupe_edges=False))
    assert kept["duplicate_edges"] == 2
    assert kept["duplicate_edges_removed"] == 0


def test_summarize_no_graphs_and_no_edges():
    empty = summarize(GraphDataset(graphs=[], name="none"))
    assert empty["graphs"] == 0 and empty["class_counts"] is None
    lone = Data(x=torch.ones(3, 1), edge_index=torch.empty(2, 0,
                dtype=torch.long), y=torch.tensor([0]))
    out = summarize(GraphDataset(graphs=[lone], classes=["a"]))
    assert out["edges"] == {"directed": 0, "undirected": 0,
                            "symmetric": True}
    assert out["isolated_nodes"] == 3 and out["degree"]["max"] == 0
    assert out["class_counts"] == {"a": 1}


def test_summary_table_unlabelled_says_no_labels():
    bare = Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0], [1]]))
    table = summary_table(summarize(GraphDataset(graphs=[bare], name="u")))
    assert "u (graph level, no labels)" in table
    assert table.splitlines()[7].split() == ["classes", "none", "(no",
                                             "labels)"]
