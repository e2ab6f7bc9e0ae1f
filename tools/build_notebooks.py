"""Write the numbered notebooks from their sources in ``tools/notebooks/``.

Each source is a Python file in the "percent" format (``# %%`` starts a code
cell, ``# %% [markdown]`` a markdown cell whose lines start with ``#``). The
sources are the truth; the ``.ipynb`` files are generated, committed without
outputs, and given the same Colab badge and install lines. The dashboards in
``notebooks/dashboards/`` are written by hand, but their badge and install
lines come from here too, so ``GITHUB_REPO`` is the one place to name the
repository.

    python tools/build_notebooks.py          # write notebooks/*.ipynb
    python tools/build_notebooks.py --check  # fail if any is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "tools" / "notebooks"
TARGET = ROOT / "notebooks"
DASHBOARDS = TARGET / "dashboards"

# The GitHub "owner/name" the Colab badge and the install cell point at.
# A placeholder until the project is published: forks set it to their own
# repository and rerun this script.
GITHUB_REPO = "example-org/gnnkit"
BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/"
    "colab-badge.svg)](https://colab.research.google.com/github/"
    "{repo}/blob/main/notebooks/{name})"
)
INSTALL = f"""\
# On Colab or a fresh machine: install gnnkit and fetch its shipped data
# only when gnnkit is missing. Forks: set GNNKIT_REPO to your owner/name.
import os

GNNKIT_REPO = "{GITHUB_REPO}"
try:
    import gnnkit  # noqa: F401
except ImportError:
    %pip install --quiet "gnnkit @ git+https://github.com/{{GNNKIT_REPO}}"
    !git clone -q --depth 1 https://github.com/{{GNNKIT_REPO}} gnnkit-repo
if os.path.isdir("gnnkit-repo/data"):  # also after a runtime restart
    os.environ["GNNKIT_DATA"] = os.path.abspath("gnnkit-repo/data")
"""


def split_cells(text: str) -> list[tuple[str, str]]:
    """Split a percent-format source into ``(kind, source)`` cells."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# %%"):
            kind = "markdown" if "[markdown]" in line else "code"
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
    return [(kind, _clean(kind, lines)) for kind, lines in cells]


def _clean(kind: str, lines: list[str]) -> str:
    """Strip the comment marks of markdown and the blank edges of a cell."""
    if kind == "markdown":
        lines = [line[2:] if line.startswith("# ") else "" for line in lines]
    return "\n".join(lines).strip("\n")


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook generated from one source file."""
    name = f"{source.stem}.ipynb"
    cells = split_cells(source.read_text(encoding="utf-8"))
    title, rest = (
        cells[0][1].split("\n", 1)
        if "\n" in cells[0][1]
        else (cells[0][1], "")
    )
    badge = BADGE.format(repo=GITHUB_REPO, name=name)
    cells[0] = ("markdown", f"{title}\n\n{badge}\n\n{rest}".rstrip())
    first_code = next(i for i, (kind, _) in enumerate(cells) if kind == "code")
    cells[first_code] = ("code", INSTALL + "\n" + cells[first_code][1])
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {
            "display_name": "Python 3",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    for index, (kind, text) in enumerate(cells):
        make = (
            nbformat.v4.new_markdown_cell
            if kind == "markdown"
            else nbformat.v4.new_code_cell
        )
        nb.cells.append(make(text, id=f"{source.stem[:2]}-{index:03d}"))
    return nb


def sync_dashboard(path: Path) -> nbformat.NotebookNode:
    """A hand-written dashboard with this script's badge and install lines.

    The badge's ``owner/name`` is replaced, and the first code cell's
    install lines (everything before its first ``from``/``import`` line
    after the ``try`` block) become :data:`INSTALL`.
    """
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = re.sub(
        r"colab\.research\.google\.com/github/[^/]+/[^/]+/blob",
        f"colab.research.google.com/github/{GITHUB_REPO}/blob",
        nb.cells[0].source,
    )
    setup = next(cell for cell in nb.cells if cell.cell_type == "code")
    lines = setup.source.split("\n")
    start = lines.index("except ImportError:")
    rest = next(
        i for i in range(start, len(lines))
        if lines[i].startswith(("from ", "import "))
    )
    setup.source = INSTALL + "\n" + "\n".join(lines[rest:])
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """The notebook as the JSON text written to disk."""
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) every generated notebook."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    jobs = [
        (TARGET / f"{source.stem}.ipynb", lambda s=source: build(s))
        for source in sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    ] + [
        (path, lambda p=path: sync_dashboard(p))
        for path in sorted(DASHBOARDS.glob("*.ipynb"))
    ]
    for target, make in jobs:
        text = render(make())
        if args.check:
            current = target.read_text("utf-8") if target.exists() else ""
            if current != text:
                stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run tools/build_notebooks.py):", *stale)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
