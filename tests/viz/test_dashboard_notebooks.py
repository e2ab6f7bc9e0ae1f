"""The dashboard notebooks Voila serves run headless with their widgets at
their defaults, open like Colab notebooks and meet the style bars."""

import re
from pathlib import Path

import nbformat
import pytest

from gnnkit.viz.dashboard import READY
from gnnkit.viz.notebooks import (
    execute_notebook,
    notebook_style,
    style_problems,
)

FOLDER = Path(__file__).resolve().parents[2] / "notebooks" / "dashboards"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb"))
NAMES = [path.name for path in NOTEBOOKS]


def _outputs(nb) -> str:
    return "\n".join(str(o) for cell in nb.cells
                     for o in cell.get("outputs", []))


def test_dashboard_notebooks_present():
    assert NAMES == ["explanation_explorer.ipynb", "training_dashboard.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_dashboard_notebook_style_and_colab(path):
    assert style_problems(notebook_style(path)) == []
    nb = nbformat.read(path, as_version=4)
    assert f"notebooks/dashboards/{path.name})" in nb.cells[0].source
    setup = next(c.source for c in nb.cells if c.cell_type == "code")
    assert "import gnnkit" in setup.split("except ImportError")[0]
    assert "%pip install" in setup.split("except ImportError")[1]
    text = "\n".join(cell.source for cell in nb.cells)
    assert not re.search(r"['\"](/work|/home|/tmp|/Users|[A-Z]:\\)", text)


@pytest.mark.slow
def test_training_dashboard_notebook_runs_headless(tmp_path):
    nb = execute_notebook(FOLDER / "training_dashboard.ipynb", timeout=180,
                          cwd=tmp_path)
    assert nb.metadata["gnnkit"]["wall_seconds"] < 180
    widgets = nb.metadata["widgets"][
        "application/vnd.jupyter.widget-state+json"]["state"]
    labels = [w["state"].get("value") for w in widgets.values()
              if w["model_name"] == "LabelModel"]
    assert READY in labels  # built, not run: widgets at their defaults
    assert "application/vnd.jupyter.widget-view+json" in _outputs(nb)


@pytest.mark.slow
def test_explanation_explorer_notebook_runs_headless(tmp_path):
    nb = execute_notebook(FOLDER / "explanation_explorer.ipynb",
                          timeout=180, cwd=tmp_path)
    assert nb.metadata["gnnkit"]["wall_seconds"] < 180
    assert re.search(r"best val accuracy 0\.\d{3} at epoch \d+",
                     _outputs(nb))
    widgets = nb.metadata["widgets"][
        "application/vnd.jupyter.widget-state+json"]["state"]
    labels = [w["state"].get("value", "") for w in widgets.values()
              if w["model_name"] == "LabelModel"]
    assert any(re.match(r"graph \S+: target \d, method "
                        r"integrated_gradients", v) for v in labels)
