"""The explanation explorer: pick a graph or node, an attribution method and
an attention layer and head; the graph view, the attention heatmap and the
token heatmap redraw. Only widgets live here; the work is
:mod:`gnnkit.explain`'s, wired by :mod:`gnnkit.viz.app`."""

from __future__ import annotations

import logging
from typing import Any, Sequence

import ipywidgets as widgets
import plotly.graph_objects as go
from torch import nn

from gnnkit.data.dataset import GraphDataset
from gnnkit.explain.wrappers import DEFAULT_METHOD, METHODS
from gnnkit.viz.app import (
    explain_item,
    explainable,
    has_attention,
    head_view,
    item_attention,
    item_choices,
    item_words,
)
from gnnkit.viz.dashboard import FigurePane
from gnnkit.viz.explain_figures import (
    attention_heatmaps,
    attribution_figure,
    token_heatmap,
)

logger = logging.getLogger(__name__)


def message_figure(text: str) -> go.Figure:
    """A blank figure carrying one line of text, e.g. why it is empty."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5,
                       xref="paper", yref="paper", font=dict(size=14))
    fig.update_layout(height=160, xaxis=dict(visible=False),
                      yaxis=dict(visible=False), plot_bgcolor="white")
    return fig


class ExplanationExplorer:
    """Browse explanations of a trained model item by item.

    The graph view colours nodes by attribution (red supports the
    prediction) and sets edge width by edge attribution. For GAT models
    the attention heatmap shows the chosen layer and head (or the mean or
    max over heads), with the self-loops the layer adds on the diagonal.
    For node-level datasets with texts and an ``encoder``, the token
    heatmap shows which words of the node's and its neighbours' texts
    mattered.

    Args:
        model (nn.Module): a trained gnnkit ``GraphModel``.
        dataset (GraphDataset): the data it was trained on (for cascade
            models, the dataset whose ``x`` holds the LM embeddings).
        items (sequence of int, optional): graph or node positions offered
            (default: the first 200, e.g. pass the validation indices).
        encoder (TextEncoder, optional): the text encoder behind the node
            features, for the token heatmap.
        methods (sequence of str): attribution methods offered.
        n_steps (int): Integrated Gradients steps. (default: ``32``)
        max_texts (int): texts explained word by word. (default: ``3``)

    Example:
        >>> explorer = ExplanationExplorer(model, dataset)
        >>> explorer          # in a notebook: shows the widgets
    """

    def __init__(
        self,
        model: nn.Module,
        dataset: GraphDataset,
        *,
        items: Sequence[int] | None = None,
        encoder: Any = None,
        methods: Sequence[str] = METHODS,
        n_steps: int = 32,
        max_texts: int = 3,
    ) -> None:
        self.model, self.dataset, self.encoder = model, dataset, encoder
        self.n_steps, self.max_texts = n_steps, max_texts
        self.attribution: Any = None
        self.layers: list[Any] = []
        self.words: Any = None
        self._ready = False  # widget observers wait until built
        self._build_controls(item_choices(dataset, items), list(methods))
        self.graph_pane = FigurePane()
        self.attention_pane = FigurePane()
        self.token_pane = FigurePane()
        self.widget = self._layout()
        self.update()
        self.item.observe(lambda _: self.update(), "value")
        self.method.observe(lambda _: self.update(what="attribution"),
                            "value")
        self.layer.observe(lambda _: self._draw_attention(), "value")
        self.head.observe(lambda _: self._draw_attention(), "value")
        self._ready = True

    @classmethod
    def from_run(cls, prepared: Any, **options: Any) -> "ExplanationExplorer":
        """The explorer for a :class:`~gnnkit.viz.app.PreparedRun` (e.g.
        ``TrainingDashboard.prepared``), offering its validation items;
        cascade and joint LM+GNN runs bring their text encoder."""
        model, dataset, encoder = explainable(prepared)
        options.setdefault("items", prepared.val_index.tolist())
        options.setdefault("encoder", encoder)
        return cls(model, dataset, **options)

    def _build_controls(self, choices: list, methods: list[str]) -> None:
        style = {"description_width": "80px"}
        what = "Graph" if self.dataset.level == "graph" else "Node"
        self.item = widgets.Dropdown(options=choices, description=what,
                                     style=style)
        default = DEFAULT_METHOD if DEFAULT_METHOD in methods else methods[0]
        self.method = widgets.Dropdown(options=methods, value=default,
                                       description="Method", style=style)
        self.layer = widgets.Dropdown(options=[0], description="Layer",
                                      style=style)
        self.head = widgets.Dropdown(options=["mean", "max"],
                                     description="Head", style=style)
        self.status = widgets.Label()

    def _layout(self) -> widgets.Widget:
        controls = widgets.HBox([
            widgets.VBox([self.item, self.method]),
            widgets.VBox([self.layer, self.head]),
        ])  # fmt: skip
        return widgets.VBox([controls, self.status, self.graph_pane.output,
                             self.attention_pane.output,
                             self.token_pane.output])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def update(self, what: str = "all") -> None:
        """Recompute and redraw for the current choices.

        Args:
            what (str): ``"all"`` (a new item) or ``"attribution"`` (a new
                method only).
        """
        item, method = self.item.value, self.method.value
        self.status.value = f"Explaining {item} with {method}..."
        try:
            self.attribution = explain_item(self.model, self.dataset, item,
                                            method, self.n_steps)
            self.graph_pane.show(attribution_figure(self.attribution))
            if what == "all":
                self._attention_for(item)
                self._words_for(item)
        except Exception as exc:  # shown in the status label
            logger.exception("explanation failed")
            self.status.value = f"Error: {exc}"
            raise
        self.status.value = self._summary()

    def _summary(self) -> str:
        result = self.attribution
        fid = "" if result.fidelity_plus is None else \
            f"; fidelity+ {result.fidelity_plus:.3f}, fidelity- " \
            f"{result.fidelity_minus:.3f}"
        return (f"{self.dataset.level} {result.item}: target "
                f"{result.target}, method {result.method}{fid}")

    def _attention_for(self, item: Any) -> None:
        if not has_attention(self.model):
            self.layers = []
            self.layer.disabled = self.head.disabled = True
            self.attention_pane.show(message_figure(
                "No attention: the model has no GAT layer."))
            return
        self.layers = item_attention(self.model, self.dataset, item)
        ready, self._ready = self._ready, False
        self.layer.options = list(range(len(self.layers)))
        self.head.options = ["mean", "max", *range(self.layers[0].heads)]
        self._ready = ready
        self._draw_attention(force=True)

    def _draw_attention(self, force: bool = False) -> None:
        if not self.layers or not (self._ready or force):
            return
        layer = self.layers[self.layer.value or 0]
        head = self.head.value
        fig = attention_heatmaps(head_view(layer, head))
        label = f"head {head}" if isinstance(head, int) else \
            f"{head} over heads"
        fig.layout.annotations[0].text = label
        self.attention_pane.show(fig)

    def _words_for(self, item: Any) -> None:
        try:
            self.words = item_words(self.model, self.dataset, item,
                                    self.encoder, self.max_texts,
                                    min(self.n_steps, 16))
        except (AttributeError, TypeError, RuntimeError) as exc:
            # e.g. a PEFT-wrapped LM without get_input_embeddings()
            logger.warning("word explanation failed: %s", exc)
            self.words = None
            self.token_pane.show(message_figure(
                f"Token view failed for this model: {exc}"))
            return
        if self.words is None:
            self.token_pane.show(message_figure(
                "No token view: it needs node texts and the encoder."))
            return
        self.token_pane.show(token_heatmap(self.words))
