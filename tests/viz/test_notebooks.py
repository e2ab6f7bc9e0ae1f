import nbformat
import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.viz.exercises import CHECK_FAILED, check_answer, node_subgraph
from gnnkit.viz.notebooks import (
    NotebookExecutionError,
    execute_notebook,
    failed_checks,
    main,
    notebook_style,
    numbered_notebooks,
    style_problems,
)


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    make = {"md": nbformat.v4.new_markdown_cell,
            "code": nbformat.v4.new_code_cell}
    nb.cells = [make[kind](source) for kind, source in cells]
    return nb


def write(path, nb):
    nbformat.write(nb, path)
    return path


def test_notebook_style_counts_exact():
    nb = notebook(("md", "# T"), ("code", "a = 1\n\nb = 2"), ("md", "x"),
                  ("md", "y"), ("code", "c = 3"), ("code", "\n".join(
                      f"v{i} = {i}" for i in range(16))))
    style = notebook_style(nb)
    assert (style.markdown_cells, style.code_cells) == (3, 3)
    assert style.code_lines == [2, 1, 16]
    assert style.after_markdown == 2 and style.longest_code_run == 2
    assert style.ratio == pytest.approx(1.0)
    assert style.short_share == pytest.approx(2 / 3)
    assert style.markdown_before_share == pytest.approx(2 / 3)
    assert style.max_code_lines == 16 and style.cells_with_output == 0


def test_style_problems_names_each_missed_bar():
    nb = notebook(("code", "\n".join(f"v{i} = {i}" for i in range(41))),
                  ("code", "x = 1"), ("md", "text"))
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1")]
    problems = style_problems(notebook_style(nb))
    assert problems == [
        "markdown/code ratio 0.50 < 1.2",
        "only 50% of code cells have <= 15 lines",
        "a code cell has 41 lines",
        "markdown precedes 0% of code cells (< 90%)",
        "1 cells carry outputs",
    ]


def test_style_problems_empty_for_a_good_notebook():
    nb = notebook(("md", "a"), ("md", "b"), ("code", "x = 1"), ("md", "c"),
                  ("md", "d"), ("code", "y = 2"))
    assert style_problems(notebook_style(nb)) == []


def test_check_answer_numbers_within_tolerance():
    assert check_answer("v", 0.50001, 0.5, hint="h").passed
    assert check_answer("v", [1.0, 0.5], torch.tensor([1.0, 0.5]),
                        hint="h").passed
    assert not check_answer("v", [1.0], torch.tensor([1.0, 0.5]),
                            hint="h").passed
    assert not check_answer("v", None, 3, hint="h").passed


def test_check_answer_accepts_three_significant_digits():
    majority = 125 / 188  # 0.66489..., "66.5 %" in notebook 01
    assert check_answer("v", 0.665, majority, hint="h").passed
    assert not check_answer("v", 0.67, majority, hint="h").passed
    h3 = torch.tensor([0.40825, 0.40825])  # 1 / sqrt(6), notebook 02
    assert check_answer("v", [0.408, 0.408], h3, hint="h").passed
    assert not check_answer("v", [0.42, 0.408], h3, hint="h").passed
    assert check_answer("v", 0.065, 0.0648, hint="h").passed  # notebook 08
    assert not check_answer("v", 0.07, 0.0648, hint="h").passed
    assert not check_answer("v", 0.013, 0.0125, hint="h").passed
    assert check_answer("v", 0.013, 0.0125, hint="h", rtol=0.05).passed


def test_check_answer_keeps_ints_exact():
    assert not check_answer("v", 1001, 1000, hint="h").passed
    assert check_answer("v", 1000, 1000, hint="h").passed
    assert check_answer("v", 1000.0, 1000, hint="h").passed
    assert not check_answer("v", 1.0, "gcn", hint="h").passed


def test_check_answer_shows_hint_when_wrong():
    verdict = check_answer("edge rows", 7, 8, hint="count both ways")
    assert repr(verdict) == (
        f"{CHECK_FAILED}: edge rows -- hint: count both ways")
    assert "not yet. Hint: count both ways" in verdict._repr_html_()
    assert repr(check_answer("edge rows", 8, 8, hint="x")) == (
        "gnnkit-check: passed: edge rows is correct.")


def test_check_answer_compares_strings_and_bools_exactly():
    assert check_answer("s", "gcn", "gcn", hint="h").passed
    assert not check_answer("s", "gat", "gcn", hint="h").passed
    assert check_answer("b", False, False, hint="h").passed
    assert not check_answer("b", True, False, hint="h").passed


def test_numbered_notebooks_sorted_and_missing_folder(tmp_path):
    for name in ["02_b.ipynb", "01_a.ipynb", "notes.ipynb", "1_c.ipynb"]:
        (tmp_path / name).write_text("{}")
    assert [p.name for p in numbered_notebooks(tmp_path)] == [
        "01_a.ipynb", "02_b.ipynb"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        numbered_notebooks(tmp_path / "nope")


def test_node_subgraph_keeps_ids_texts_and_edges():
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4],
                               [1, 0, 2, 1, 3, 2, 4, 3]])
    graph = Data(x=torch.arange(5.0).view(-1, 1), edge_index=edge_index,
                 y=torch.tensor([0, 1, 0, 1, 1]))
    dataset = GraphDataset([graph], level="node", name="path",
                           classes=["a", "b"],
                           node_ids=[["n0", "n1", "n2", "n3", "n4"]],
                           texts=[["t0", "t1", "t2", "t3", "t4"]])
    small = node_subgraph(dataset, [0], hops=2)
    assert small.name == "path-3" and small.classes == ["a", "b"]
    assert small.node_ids == [["n0", "n1", "n2"]]
    assert small.texts == [["t0", "t1", "t2"]]
    assert small[0].x.view(-1).tolist() == [0.0, 1.0, 2.0]
    assert small[0].y.tolist() == [0, 1, 0]
    assert small[0].edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]


def test_node_subgraph_rejects_graph_level_and_bad_seeds():
    graph = Data(x=torch.ones(2, 1), edge_index=torch.tensor([[0], [1]]),
                 y=torch.tensor([0]))
    with pytest.raises(ValueError, match="needs a node-level dataset"):
        node_subgraph(GraphDataset([graph], level="graph"), [0])
    with pytest.raises(ValueError, match=r"positions in \[0, 2\)"):
        node_subgraph(GraphDataset([graph], level="node"), [5])


def test_execute_notebook_runs_and_records_checks(tmp_path):
    path = write(tmp_path / "01_ok.ipynb", notebook(
        ("code", "import os\nprint(os.environ['HF_HUB_OFFLINE'])"),
        ("code", "from gnnkit.viz.exercises import check_answer\n"
                 "check_answer('two', 1 + 1, 2, hint='add')"),
        ("code", "check_answer('three', 2, 3, hint='add one')"),
    ))
    nb = execute_notebook(path, timeout=120, cwd=tmp_path)
    assert nb.cells[0].outputs[0]["text"] == "1\n"
    assert nb.metadata["gnnkit"]["wall_seconds"] > 0
    assert failed_checks(nb) == [
        f"cell 2: {CHECK_FAILED}: three -- hint: add one"]


def test_execute_notebook_names_the_failing_cell(tmp_path):
    path = write(tmp_path / "01_bad.ipynb", notebook(
        ("md", "# bad"), ("code", "x = 1"), ("code", "1 / 0")))
    with pytest.raises(NotebookExecutionError,
                       match=r"01_bad.ipynb, cell 2 \(starting '1 / 0'\): "
                             r"ZeroDivisionError"):
        execute_notebook(path, timeout=120, cwd=tmp_path)


def test_main_exports_one_html_copy_per_numbered_notebook(tmp_path,
                                                           capsys):
    src = tmp_path / "nbs"
    src.mkdir()
    write(src / "01_plot.ipynb", notebook(
        ("md", "# Plot"),
        ("code", "import plotly.graph_objects as go\n"
                 "go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))")))
    write(src / "scratch.ipynb", notebook(("code", "1 / 0")))
    assert main([str(src), "--html-dir", str(tmp_path / "html")]) == 0
    html = (tmp_path / "html" / "01_plot.html").read_text()
    assert "plotly" in html and "<h1" in html
    assert not (tmp_path / "html" / "scratch.html").exists()
    assert "01_plot.ipynb" in capsys.readouterr().out


def test_execute_notebook_reports_a_timeout(tmp_path):
    path = write(tmp_path / "01_slow.ipynb", notebook(
        ("code", "import time\ntime.sleep(30)")))
    with pytest.raises(NotebookExecutionError,
                       match=r"01_slow.ipynb, cell 0 \(starting 'import "
                             r"time'\): CellTimeoutError: .* timed out"):
        execute_notebook(path, timeout=2, cwd=tmp_path)
