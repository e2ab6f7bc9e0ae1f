"""Run the numbered teaching notebooks headless (nbclient) and export HTML.

Also measures notebooks against the style bars (markdown per code cell,
code cell lengths). The exercise checks the notebooks call live in
:mod:`gnnkit.viz.exercises`.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from gnnkit._io import atomic_write_text
from gnnkit.viz.exercises import CHECK_FAILED

logger = logging.getLogger(__name__)

NUMBERED = "[0-9][0-9]_*.ipynb"
OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
# Plotly's notebook renderer embeds plotly.js, which static HTML needs.
HTML_ENV = {"PLOTLY_RENDERER": "plotly_mimetype+notebook"}


class NotebookExecutionError(RuntimeError):
    """A notebook cell raised while the notebook ran headless."""


def _require(module: str) -> Any:
    """Import an optional dependency of the ``[notebooks]`` extra."""
    try:
        return __import__(module)
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            f"Running notebooks needs `{module}`; install the extra with "
            "`pip install 'gnnkit[notebooks]'`."
        ) from exc


def numbered_notebooks(directory: str | os.PathLike) -> list[Path]:
    """The numbered notebooks (``NN_topic.ipynb``) of ``directory``, sorted.

    Raises:
        FileNotFoundError: if ``directory`` does not exist.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(
            f"Notebook folder '{directory}' does not exist; pass the "
            "folder that holds NN_topic.ipynb files (e.g. `notebooks`)."
        )
    return sorted(directory.glob(NUMBERED))


def _kernel_env(extra: dict[str, str] | None) -> dict[str, str]:
    """The kernel's environment: ours, offline Hugging Face, ``extra``."""
    env = dict(os.environ)
    env.update(OFFLINE_ENV)
    env.update(extra or {})
    return env


def _failure(path: Path, nb: Any, exc: Exception) -> NotebookExecutionError:
    """Name the notebook, cell and error of a failed or timed-out run."""
    index, source = -1, ""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                index, source = i, cell.source
    if index < 0:  # a timeout or a dead kernel leaves no error output
        return NotebookExecutionError(f"{path.name}: {exc}")
    first = source.strip().splitlines()[0] if source.strip() else "?"
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    return NotebookExecutionError(
        f"{path.name}, cell {index} (starting {first!r}): {ename}: {evalue}"
    )


def execute_notebook(
    path: str | os.PathLike,
    timeout: int = 600,
    *,
    cwd: str | os.PathLike | None = None,
    kernel_name: str = "python3",
    env: dict[str, str] | None = None,
) -> Any:
    """Execute a notebook top to bottom in a fresh kernel, headless.

    The kernel is the ``python3`` kernel of the running interpreter (the
    project's ``.venv`` when called from it), with Hugging Face set to
    offline. Widgets keep their default values; their state is stored so
    an HTML export shows them.

    Args:
        path (str or PathLike): the ``.ipynb`` file.
        timeout (int): seconds allowed per cell (default: ``600``).
        cwd (str or PathLike, optional): the kernel's working folder, where
            relative paths written by the notebook land (default: the
            notebook's folder).
        kernel_name (str): Jupyter kernel to start (default: ``"python3"``).
        env (dict, optional): extra environment variables for the kernel.

    Returns:
        nbformat.NotebookNode: the executed notebook; ``metadata.gnnkit``
        holds ``wall_seconds``.

    Raises:
        NotebookExecutionError: naming the cell that failed and its error,
            or the cell that ran past ``timeout``.
    """
    nbformat = _require("nbformat")
    nbclient = _require("nbclient")
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    workdir = Path(cwd) if cwd is not None else path.parent
    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.perf_counter()
    try:
        client.execute(env=_kernel_env(env))
    except (
        nbclient.exceptions.CellExecutionError,
        nbclient.exceptions.CellTimeoutError,
        nbclient.exceptions.DeadKernelError,
    ) as exc:
        raise _failure(path, nb, exc) from None
    nb.metadata["gnnkit"] = {"wall_seconds": time.perf_counter() - start}
    return nb


def failed_checks(nb: Any) -> list[str]:
    """Outputs of an executed notebook where an exercise check failed.

    See :func:`check_answer`.
    """
    failed = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = str(out.get("data", {}).get("text/plain", ""))
            text += str(out.get("text", ""))
            if CHECK_FAILED in text:
                failed.append(f"cell {index}: {text.strip()}")
    return failed


def export_html(
    directory: str | os.PathLike,
    html_dir: str | os.PathLike,
    *,
    timeout: int = 600,
    progress_bar: bool = True,
) -> dict[str, float]:
    """Execute each numbered notebook and write an HTML copy with outputs.

    The committed notebooks stay without outputs; only the HTML copies in
    ``html_dir`` hold them. Files a notebook writes land in ``directory``
    (e.g. its ``runs/`` folder). Plotly figures are rendered with
    plotly.js embedded, so the copies read offline.

    Args:
        directory (str or PathLike): folder of ``NN_topic.ipynb`` files.
        html_dir (str or PathLike): where the ``.html`` copies go.
        timeout (int): seconds allowed per cell (default: ``600``).
        progress_bar (bool): show a tqdm bar (default: ``True``).

    Returns:
        dict: notebook file name -> wall seconds of its run.
    """
    nbconvert = _require("nbconvert")
    from tqdm.auto import tqdm

    exporter = nbconvert.HTMLExporter()
    seconds = {}
    paths = numbered_notebooks(directory)
    for path in tqdm(paths, desc="notebooks", disable=not progress_bar):
        nb = execute_notebook(path, timeout=timeout, env=HTML_ENV)
        body, _ = exporter.from_notebook_node(nb)
        target = Path(html_dir) / f"{path.stem}.html"
        atomic_write_text(target, body)
        target.chmod(0o644)  # a copy for reading, like any exported page
        seconds[path.name] = nb.metadata["gnnkit"]["wall_seconds"]
    return seconds


@dataclass
class NotebookStyle:
    """How a notebook reads, measured as in the project's STYLE.md.

    Attributes:
        markdown_cells (int): number of markdown cells.
        code_cells (int): number of code cells.
        code_lines (list[int]): non-blank lines of each code cell.
        after_markdown (int): code cells right after a markdown cell.
        longest_code_run (int): most code cells in a row.
        cells_with_output (int): code cells that carry saved outputs.
    """

    markdown_cells: int
    code_cells: int
    code_lines: list[int]
    after_markdown: int
    longest_code_run: int
    cells_with_output: int

    @property
    def ratio(self) -> float:
        """Markdown cells per code cell."""
        return self.markdown_cells / max(self.code_cells, 1)

    @property
    def short_share(self) -> float:
        """Share of code cells of 15 non-blank lines or fewer."""
        short = sum(n <= 15 for n in self.code_lines)
        return short / max(self.code_cells, 1)

    @property
    def markdown_before_share(self) -> float:
        """Share of code cells that follow a markdown cell."""
        return self.after_markdown / max(self.code_cells, 1)

    @property
    def max_code_lines(self) -> int:
        """Length of the longest code cell (non-blank lines)."""
        return max(self.code_lines, default=0)


def notebook_style(nb: Any) -> NotebookStyle:
    """Measure a notebook (a path or an ``nbformat`` node)."""
    if isinstance(nb, (str, os.PathLike)):
        nb = _require("nbformat").read(Path(nb), as_version=4)
    kinds = [c.cell_type for c in nb.cells]
    code = [c for c in nb.cells if c.cell_type == "code"]
    run, longest = 0, 0
    for kind in kinds:
        run = run + 1 if kind == "code" else 0
        longest = max(longest, run)
    pairs = zip(kinds, kinds[1:])
    return NotebookStyle(
        markdown_cells=kinds.count("markdown"),
        code_cells=len(code),
        code_lines=[_code_lines(c.source) for c in code],
        after_markdown=sum(a == "markdown" and b == "code" for a, b in pairs),
        longest_code_run=longest,
        cells_with_output=sum(bool(c.get("outputs")) for c in code),
    )


def _code_lines(source: str) -> int:
    """Non-blank lines of a cell's source."""
    return sum(bool(line.strip()) for line in source.splitlines())


def style_problems(
    style: NotebookStyle,
    *,
    min_ratio: float = 1.2,
    min_short_share: float = 0.6,
    hard_max_lines: int = 40,
    min_markdown_before: float = 0.9,
) -> list[str]:
    """The style bars a notebook misses (an empty list when it meets all).

    Bars (STYLE.md, UvA rhythm): at least ``min_ratio`` markdown cells per
    code cell; at least ``min_short_share`` of code cells of 15 lines or
    fewer; no code cell past ``hard_max_lines``; markdown before at least
    ``min_markdown_before`` of code cells; no saved outputs.
    """
    problems = []
    if style.ratio < min_ratio:
        problems.append(f"markdown/code ratio {style.ratio:.2f} < {min_ratio}")
    if style.short_share < min_short_share:
        problems.append(
            f"only {style.short_share:.0%} of code cells have <= 15 lines"
        )
    if style.max_code_lines > hard_max_lines:
        problems.append(f"a code cell has {style.max_code_lines} lines")
    if style.markdown_before_share < min_markdown_before:
        problems.append(
            f"markdown precedes {style.markdown_before_share:.0%} of code "
            f"cells (< {min_markdown_before:.0%})"
        )
    if style.cells_with_output:
        problems.append(f"{style.cells_with_output} cells carry outputs")
    return problems


def _table(rows: dict[str, float], directory: Path) -> list[str]:
    """One line per notebook: seconds and style figures."""
    lines = ["notebook                          seconds  md/code  <=15"]
    for name, seconds in rows.items():
        style = notebook_style(directory / name)
        lines.append(
            f"{name:<33} {seconds:7.1f}  {style.ratio:7.2f}  "
            f"{style.short_share:4.0%}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gnnkit.viz.notebooks DIR --html-dir OUT``."""
    parser = argparse.ArgumentParser(
        description="Execute the numbered notebooks and write HTML copies."
    )
    parser.add_argument("directory", help="folder of NN_topic.ipynb files")
    parser.add_argument("--html-dir", required=True, help="output folder")
    parser.add_argument("--timeout", type=int, default=600)
    args = parser.parse_args(argv)
    rows = export_html(args.directory, args.html_dir, timeout=args.timeout)
    for line in _table(rows, Path(args.directory)):
        print(line)
    print(f"HTML copies written to {args.html_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
