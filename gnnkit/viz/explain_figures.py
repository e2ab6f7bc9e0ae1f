"""Plotly views of explanations: the explained (sub)graph with node colour
= importance and edge width = importance or attention, per-head attention
heatmaps, token heatmaps and top-k tables, assembled into self-contained
HTML (plotly.js inlined once per page)."""

from __future__ import annotations

import html
from typing import Any, Sequence

import networkx as nx
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import Tensor

from gnnkit.data.dataset import GraphDataset
from gnnkit.explain.attention import LayerAttention, TextAttention
from gnnkit.explain.attributions import explain_graph, explain_node
from gnnkit.explain.results import (
    Attribution,
    TokenAttribution,
    WordExplanation,
)
from gnnkit.explain.wrappers import DEFAULT_METHOD
from gnnkit.viz.report import Report, table_html

DIVERGING = "RdBu_r"


def _positions(num_nodes: int, edges: list[list[int]], seed: int) -> dict:
    graph = nx.Graph()
    graph.add_nodes_from(range(num_nodes))
    graph.add_edges_from(e for e in edges if e[0] != e[1])
    return nx.spring_layout(graph, seed=seed)


def _widths(values: Tensor | None, count: int) -> list[float]:
    if values is None or values.numel() == 0:
        return [1.5] * count
    size = values.detach().abs().float()
    top = float(size.max())
    scale = size / top if top > 0 else size
    return (0.5 + 6.0 * scale).tolist()


def _range(values: list[float]) -> float:
    return max([abs(v) for v in values] + [1e-12])


def subgraph_figure(
    node_ids: Sequence[Any],
    edge_index: Tensor,
    *,
    node_values: Tensor | None = None,
    edge_values: Tensor | None = None,
    highlight: Any = None,
    title: str = "",
    value_name: str = "importance",
    seed: int = 0,
) -> go.Figure:
    """Draw a graph with node colour and edge width set by values.

    Args:
        node_ids (sequence): original id of each node (shown as labels).
        edge_index (Tensor): edges as positions into ``node_ids``
            ``[2, E]``.
        node_values (Tensor, optional): one value per node, coloured on a
            diverging scale centred at 0 (red supports the prediction).
        edge_values (Tensor, optional): one value per edge; the magnitude
            sets the line width, hover shows the value.
        highlight (Any, optional): a node id drawn with a thick outline.
        title (str, optional): the figure title.
        value_name (str, optional): what the values are, for hover text.
        seed (int, optional): layout seed. (default: ``0``)
    """
    edges = edge_index.t().tolist()
    pos = _positions(len(node_ids), edges, seed)
    fig = go.Figure()
    widths = _widths(edge_values, len(edges))
    for i, ((src, dst), width) in enumerate(zip(edges, widths)):
        _add_edge(fig, pos, src, dst, width)
    _add_edge_hover(fig, pos, edges, node_ids, edge_values, value_name)
    _add_nodes(fig, pos, node_ids, node_values, highlight, value_name)
    fig.update_layout(
        title=title, height=460, showlegend=False, plot_bgcolor="white",
        xaxis=dict(visible=False), yaxis=dict(visible=False),
        margin=dict(l=10, r=10, t=50, b=10),
    )  # fmt: skip
    return fig


def _add_edge(fig: go.Figure, pos: dict, src: int, dst: int,
              width: float) -> None:
    if src == dst:
        return
    fig.add_annotation(
        x=pos[dst][0], y=pos[dst][1], ax=pos[src][0], ay=pos[src][1],
        xref="x", yref="y", axref="x", ayref="y", showarrow=True,
        arrowhead=2, arrowsize=0.8, arrowwidth=width, standoff=9,
        arrowcolor="rgba(90,90,90,0.7)",
    )  # fmt: skip


def _add_edge_hover(fig, pos, edges, node_ids, values, name) -> None:
    if not edges:
        return
    xs = [(pos[s][0] + pos[d][0]) / 2 for s, d in edges]
    ys = [(pos[s][1] + pos[d][1]) / 2 for s, d in edges]
    vals = [None] * len(edges) if values is None else values.tolist()
    text = [
        f"{node_ids[s]} → {node_ids[d]}"
        + ("" if v is None else f"<br>{name}: {v:.4g}")
        for (s, d), v in zip(edges, vals)
    ]
    fig.add_scatter(x=xs, y=ys, mode="markers", hovertext=text,
                    hoverinfo="text", marker=dict(size=6, opacity=0))


def _add_nodes(fig, pos, node_ids, values, highlight, name) -> None:
    n = len(node_ids)
    vals = None if values is None else values.detach().float().tolist()
    hover = [f"node {i}" + ("" if vals is None else
                            f"<br>{name}: {vals[k]:.4g}")
             for k, i in enumerate(node_ids)]
    outline = [4 if i == highlight else 1 for i in node_ids]
    span = _range(vals) if vals is not None else 1.0
    fig.add_scatter(
        x=[pos[k][0] for k in range(n)], y=[pos[k][1] for k in range(n)],
        mode="markers+text", text=[str(i) for i in node_ids],
        textposition="top center", hovertext=hover, hoverinfo="text",
        marker=dict(
            size=16, color=vals if vals is not None else "#9ecae1",
            colorscale=DIVERGING, cmin=-span, cmax=span,
            showscale=vals is not None, line=dict(width=outline,
                                                  color="#222"),
            colorbar=dict(title=name) if vals is not None else None,
        ),
    )  # fmt: skip


def attribution_figure(result: Attribution, seed: int = 0) -> go.Figure:
    """The explained graph or receptive field of an :class:`Attribution`:
    node colour = node importance, edge width = edge importance."""
    what = "graph" if result.level == "graph" else "node"
    title = (f"{result.method} — {what} {result.item}, "
             f"target {result.target}")
    return subgraph_figure(
        result.node_ids, result.edge_index,
        node_values=result.node_importance,
        edge_values=result.edge_mask,
        highlight=result.item if result.level == "node" else None,
        title=title, seed=seed,
    )


def attention_figure(
    layer: LayerAttention, how: str | int = "mean", seed: int = 0
) -> go.Figure:
    """The graph with edge width = GAT attention of one layer.

    Args:
        layer (LayerAttention): from :func:`~gnnkit.explain.attention.
            gat_attention`.
        how (str or int, optional): ``"mean"`` or ``"max"`` over heads, or
            a head number. (default: ``"mean"``)
        seed (int, optional): layout seed.
    """
    values = layer.alpha[:, how] if isinstance(how, int) \
        else layer.reduce(how)[: layer.alpha.size(0)]
    label = f"head {how}" if isinstance(how, int) else f"{how} over heads"
    return subgraph_figure(
        layer.node_ids, layer.edge_index, edge_values=values,
        title=f"GAT attention, layer {layer.layer} ({label})",
        value_name="attention", seed=seed,
    )


def attention_heatmaps(layer: LayerAttention) -> go.Figure:
    """One heatmap per head: rows are target nodes, columns source nodes;
    added self-loops are on the diagonal like the user's own."""
    n, heads = len(layer.node_ids), layer.heads
    fig = make_subplots(rows=1, cols=heads,
                        subplot_titles=[f"head {h}" for h in range(heads)])
    src = torch.cat([layer.edge_index[0], layer.loop_nodes])
    dst = torch.cat([layer.edge_index[1], layer.loop_nodes])
    alpha = layer.all_alpha()
    labels = [str(i) for i in layer.node_ids]
    for h in range(heads):
        grid = torch.full((n, n), float("nan"))
        grid[dst, src] = alpha[:, h]
        fig.add_trace(go.Heatmap(
            z=grid.tolist(), x=labels, y=labels, zmin=0, zmax=1,
            colorscale="Blues", showscale=h == heads - 1,
            hovertemplate="source %{x} → target %{y}: %{z:.3f}"
                          "<extra></extra>",
        ), row=1, col=h + 1)  # fmt: skip
    fig.update_yaxes(autorange="reversed", title_text="target")
    fig.update_xaxes(title_text="source")
    fig.update_layout(height=360, title=f"GAT attention, layer "
                      f"{layer.layer}, per head")
    return fig


def token_heatmap(
    texts: TokenAttribution | WordExplanation | Sequence[TokenAttribution],
) -> go.Figure:
    """Token attributions as a heatmap, one row per text, tokens written
    in their cells; special tokens are shown in brackets of their own."""
    if isinstance(texts, TokenAttribution):
        texts = [texts]
    elif isinstance(texts, WordExplanation):
        texts = texts.texts
    width = max(len(t.tokens) for t in texts)
    z, words, rows = [], [], []
    for t in texts:
        pad = width - len(t.tokens)
        z.append(t.attributions.tolist() + [None] * pad)
        words.append(list(t.tokens) + [""] * pad)
        rows.append(f"node {t.node}" if t.node is not None else "text")
    span = _range([v for row in z for v in row if v is not None])
    fig = go.Figure(go.Heatmap(
        z=z, y=rows, text=words, texttemplate="%{text}",
        colorscale=DIVERGING, zmin=-span, zmax=span,
        hovertemplate="%{y}, %{text}: %{z:.4g}<extra></extra>",
    ))  # fmt: skip
    fig.update_xaxes(visible=False)
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(height=120 + 40 * len(texts),
                      title="Token attributions (red supports the output)")
    return fig


def text_attention_heatmap(
    attention: TextAttention, layer: int = -1, how: str = "mean"
) -> go.Figure:
    """The LM's self-attention over a text, one layer, mean or max over
    heads."""
    grid = attention.reduce(layer, how)
    return go.Figure(go.Heatmap(
        z=grid.tolist(), x=attention.tokens, y=attention.tokens,
        colorscale="Blues", zmin=0,
        hovertemplate="%{y} attends to %{x}: %{z:.3f}<extra></extra>",
    )).update_layout(
        title=f"LM self-attention, layer {layer} ({how} over heads)",
        height=420, yaxis=dict(autorange="reversed"),
    )  # fmt: skip


def top_k_table(result: Attribution, k: int = 5) -> str:
    """HTML tables of the ``k`` most important nodes and edges."""
    parts = [table_html(result.top_nodes(k), ["node", "importance"])]
    edges = result.top_edges(k)
    if edges:
        parts.append(table_html(
            edges, ["source", "target", "row", "importance", "self_loop"]))
    return "\n".join(parts)


def _summary(result: Attribution) -> str:
    fid = (f"fidelity+ {result.fidelity_plus}, fidelity- "
           f"{result.fidelity_minus} (top {result.fidelity_topk:.0%} of "
           "nodes and edges)" if result.fidelity_plus is not None
           else "fidelity undefined for regression")
    return (f'<p class="note">prediction {result.prediction}, explained '
            f"target {html.escape(str(result.target))}; {fid}.</p>")


def attribution_html(result: Attribution, k: int = 5) -> str:
    """One explanation as an HTML fragment: summary, figure, top-k tables
    (plotly.js not included)."""
    figure = attribution_figure(result).to_html(full_html=False,
                                                include_plotlyjs=False)
    return "\n".join([_summary(result), figure, top_k_table(result, k)])


def explanation_page(
    results: Sequence[Attribution], title: str = "Explanations"
) -> Report:
    """A :class:`~gnnkit.viz.report.Report` with one section per result;
    ``.to_html()`` or ``.write(path)`` gives a self-contained page."""
    report = Report(title)
    for result in results:
        what = "Graph" if result.level == "graph" else "Node"
        report.add_html(f"{what} {result.item} ({result.method})",
                        attribution_html(result))
    return report


def explanation_section(
    model: Any,
    dataset: GraphDataset,
    indices: Sequence[int],
    *,
    method: str = DEFAULT_METHOD,
    k: int = 5,
) -> str:
    """Explanations of a few examples as HTML for a run report.

    Args:
        model (nn.Module): the trained model.
        dataset (GraphDataset): its dataset.
        indices (sequence of int): graph positions (graph level) or node
            positions (node level) to explain, e.g. a few test examples.
        method (str, optional): the method.
            (default: ``"integrated_gradients"``)
        k (int, optional): rows of the top-k tables. (default: ``5``)

    Returns:
        str: HTML (no plotly.js; the page it goes into inlines it once).
    """
    parts = [f'<p class="note">Method: {html.escape(method)}. Node '
             "colour is the node's attribution (red supports the "
             "prediction, blue opposes it); edge width is the edge's "
             "attribution magnitude.</p>"]
    for i in indices:
        if dataset.level == "graph":
            result = explain_graph(model, dataset, int(i), method=method)
            label = f"Graph {dataset.graph_ids[int(i)]}"
        else:
            node = dataset.node_ids[0][int(i)]
            result = explain_node(model, dataset, node, method=method)
            label = f"Node {node}"
        parts.append(f"<h3>{html.escape(label)}</h3>")
        parts.append(attribution_html(result, k))
    return "\n".join(parts)
