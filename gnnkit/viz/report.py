"""A self-contained HTML report: sections of prose, tables and plotly
figures, readable offline (plotly.js is inlined once)."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from gnnkit._io import atomic_write_text

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; }
h1 { border-bottom: 2px solid #1f77b4; padding-bottom: .3rem; }
h2 { margin-top: 2.2rem; color: #1f77b4; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: right; }
th { background: #f3f6fa; }
td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: .9rem; }
"""


@dataclass
class Report:
    """Collects sections and writes them as one HTML page.

    Example:
        >>> report = Report("MUTAG, GIN")
        >>> report.add_table("Metrics", [{"fold": 1, "accuracy": 0.9}])
        >>> report.write("runs/demo/report.html")
    """

    title: str
    sections: list[str] = field(default_factory=list)

    def add_html(self, heading: str, body: str) -> None:
        """Add a section whose body is trusted HTML."""
        self.sections.append(f"<h2>{html.escape(heading)}</h2>\n{body}")

    def add_text(self, heading: str, text: str) -> None:
        """Add a section of plain text (escaped; blank lines split it)."""
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        self.add_html(heading, body)

    def add_figure(
        self, heading: str, figure: go.Figure, note: str | None = None
    ) -> None:
        """Add a plotly figure (its JavaScript is shared page-wide)."""
        body = figure.to_html(full_html=False, include_plotlyjs=False)
        if note:
            body += f'<p class="note">{html.escape(note)}</p>'
        self.add_html(heading, body)

    def add_table(
        self,
        heading: str,
        rows: Sequence[dict[str, Any]],
        columns: Sequence[str] | None = None,
        note: str | None = None,
    ) -> None:
        """Add a table of ``rows`` (dicts); floats show 4 decimals."""
        body = table_html(rows, columns)
        if note:
            body += f'<p class="note">{html.escape(note)}</p>'
        self.add_html(heading, body)

    def to_html(self) -> str:
        """The whole page as a string."""
        title = html.escape(self.title)
        return "\n".join([
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{title}</title><style>{_STYLE}</style>",
            f'<script type="text/javascript">{get_plotlyjs()}</script>',
            f"</head><body><h1>{title}</h1>",
            *self.sections,
            "</body></html>",
        ])  # fmt: skip

    def write(self, path: str | os.PathLike) -> str:
        """Write the page atomically to ``path``; returns the path."""
        atomic_write_text(path, self.to_html())
        return str(path)


def table_html(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None
) -> str:
    """Render ``rows`` as an HTML table."""
    if not rows:
        return '<p class="note">(no rows)</p>'
    columns = list(columns or rows[0].keys())
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    lines = [f"<table><tr>{head}</tr>"]
    for row in rows:
        cells = "".join(
            f"<td>{html.escape(format_value(row.get(c)))}</td>"
            for c in columns
        )
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def format_value(value: Any) -> str:
    """Format a table cell: floats to 4 decimals, ``None`` as 'undefined'."""
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
