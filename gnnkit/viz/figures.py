"""Plotly figures for training curves, fold metrics, confusion matrices and
graph drawings; every figure works offline and in a notebook."""

from __future__ import annotations

from typing import Any, Sequence

import networkx as nx
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch_geometric.data import Data

PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip


def _val_metric(history: Sequence[dict]) -> str | None:
    """The first validation metric other than the loss in ``history``."""
    keys = history[0].keys() if history else ()
    for key in keys:
        if key.startswith("val_") and key != "val_loss":
            return key
    return None


def training_curves(
    histories: Sequence[Sequence[dict]],
    *,
    labels: Sequence[str] | None = None,
    title: str = "Training curves",
) -> go.Figure:
    """Loss and validation metric per epoch, one line per run (e.g. fold).

    Args:
        histories (list[list[dict]]): per run, the per-epoch records of
            :func:`gnnkit.train.fit.fit` (``epoch``, ``loss``, ``val_*``).
        labels (list[str], optional): a legend name per run
            (default: ``fold 1`` ...).
        title (str, optional): figure title.
    """
    metric = next(filter(None, map(_val_metric, histories)), None)
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=("training loss", metric or "")
    )
    for i, history in enumerate(histories):
        name = labels[i] if labels else f"fold {i + 1}"
        colour = PALETTE[i % len(PALETTE)]
        epochs = [r["epoch"] for r in history]
        fig.add_scatter(
            x=epochs, y=[r.get("loss") for r in history], name=name,
            legendgroup=name, line_color=colour, row=1, col=1,
        )  # fmt: skip
        if metric:
            fig.add_scatter(
                x=epochs, y=[r.get(metric) for r in history], name=name,
                legendgroup=name, line_color=colour, showlegend=False,
                row=1, col=2,
            )  # fmt: skip
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(title=title, height=380, margin=dict(t=70, b=40))
    return fig


def fold_metrics_figure(
    fold_metrics: Sequence[dict], names: Sequence[str]
) -> go.Figure:
    """Grouped bars of each metric per fold; undefined values are gaps."""
    fig = go.Figure()
    folds = [f"fold {i + 1}" for i in range(len(fold_metrics))]
    for i, name in enumerate(names):
        values = [m.get(name) for m in fold_metrics]
        fig.add_bar(x=folds, y=values, name=name, marker_color=PALETTE[i])
    fig.update_layout(
        title="Test metrics per fold", barmode="group", height=340,
        yaxis=dict(range=[0, 1]),
    )  # fmt: skip
    return fig


def confusion_matrix_figure(
    matrix: Sequence[Sequence[int]], class_names: Sequence[Any]
) -> go.Figure:
    """A heatmap of a confusion matrix (rows: true, columns: predicted)."""
    names = [str(c) for c in class_names]
    fig = go.Figure(
        go.Heatmap(
            z=matrix, x=names, y=names, colorscale="Blues",
            text=matrix, texttemplate="%{text}", showscale=False,
        )  # fmt: skip
    )
    fig.update_layout(
        title="Confusion matrix (all test folds)", height=360, width=420,
        xaxis_title="predicted", yaxis_title="true",
        yaxis_autorange="reversed",
    )  # fmt: skip
    return fig


def graph_figure(
    data: Data,
    *,
    node_ids: Sequence[Any] | None = None,
    node_color: Sequence[float] | torch.Tensor | None = None,
    edge_width: Sequence[float] | torch.Tensor | None = None,
    node_text: Sequence[str] | None = None,
    title: str = "",
    seed: int = 0,
) -> go.Figure:
    """Draw one graph with a spring layout.

    Args:
        data (Data): the graph (``edge_index`` and ``num_nodes`` are used).
        node_ids (list, optional): labels shown on hover (default: index).
        node_color (Tensor, optional): one value per node, e.g. importance.
        edge_width (Tensor, optional): one value per edge row in ``[0, 1]``,
            e.g. importance or attention; drawn as line width.
        node_text (list[str], optional): extra hover text per node.
        title (str, optional): figure title.
        seed (int, optional): layout seed, for repeatable pictures.
    """
    num_nodes = int(data.num_nodes)
    edges = data.edge_index.t().tolist()
    graph = nx.Graph()
    graph.add_nodes_from(range(num_nodes))
    graph.add_edges_from(edges)
    pos = nx.spring_layout(graph, seed=seed)
    ids = list(node_ids) if node_ids is not None else list(range(num_nodes))

    fig = go.Figure()
    widths = _as_list(edge_width) or [None] * len(edges)
    for (src, dst), width in zip(edges, widths):
        fig.add_scatter(
            x=[pos[src][0], pos[dst][0]], y=[pos[src][1], pos[dst][1]],
            mode="lines", hoverinfo="skip", showlegend=False,
            line=dict(color="#888", width=0.5 + 5 * (width or 0.2)),
        )  # fmt: skip

    hover = [f"node {i}" for i in ids]
    if node_text is not None:
        hover = [f"{h}<br>{t}" for h, t in zip(hover, node_text)]
    colours = _as_list(node_color)
    fig.add_scatter(
        x=[pos[i][0] for i in range(num_nodes)],
        y=[pos[i][1] for i in range(num_nodes)],
        mode="markers+text", text=[str(i) for i in ids],
        textposition="top center", hovertext=hover, hoverinfo="text",
        showlegend=False,
        marker=dict(
            size=14, color=colours or PALETTE[0], colorscale="Reds",
            showscale=colours is not None, line=dict(width=1, color="#333"),
        ),
    )  # fmt: skip
    fig.update_layout(
        title=title, height=420, xaxis=dict(visible=False),
        yaxis=dict(visible=False), plot_bgcolor="white",
    )  # fmt: skip
    return fig


def _as_list(values: Sequence[float] | torch.Tensor | None) -> list | None:
    if values is None:
        return None
    if isinstance(values, torch.Tensor):
        return values.detach().float().view(-1).tolist()
    return [float(v) for v in values]
