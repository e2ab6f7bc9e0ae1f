"""The live training dashboard: ipywidgets for the settings, plotly curves
that grow each epoch, and a Stop button. It only wires widgets to
:func:`gnnkit.train.fit.fit`; the explorer is in :mod:`gnnkit.viz.explorer`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Callable, Sequence

import ipywidgets as widgets
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import list_datasets, load_dataset
from gnnkit.train.fit import FitResult, fit
from gnnkit.viz.app import (
    MODEL_CHOICES,
    PreparedRun,
    RunSettings,
    cached_dataset,
    lm_strategies,
    prepare_run,
)

logger = logging.getLogger(__name__)

Callback = Callable[[int, dict], Any]
READY = "Ready: choose settings and press Run."
LR_RANGE = (-6.0, 0.0)  # log10 bounds of the learning-rate sliders
PLOTLY_MIME = "application/vnd.plotly.v1+json"


def _metric_label(monitor: str) -> str:
    """``"val_accuracy"`` -> ``"val accuracy"``."""
    return monitor.replace("_", " ")


class FigurePane:
    """An ``Output`` widget showing one plotly figure, redrawn on demand.

    The figure travels as plotly's own MIME bundle (drawn by the
    ``jupyterlab-plotly`` renderer that ships with plotly) plus an HTML
    copy for front ends without it (Colab). Unlike ``go.FigureWidget``
    this needs no per-widget JavaScript module: anywidget gives that
    module two seconds to start, which a busy machine misses, and the
    curves then silently stop updating. Replacing the output is also safe
    from the training thread.
    """

    def __init__(self, figure: go.Figure | None = None) -> None:
        self.output = widgets.Output()
        self.figure = figure
        if figure is not None:
            self.show(figure)

    def show(self, figure: go.Figure | None = None) -> None:
        """Draw ``figure`` (default: the current one again)."""
        self.figure = figure if figure is not None else self.figure
        bundle = {
            PLOTLY_MIME: json.loads(pio.to_json(self.figure)),
            "text/html": self.figure.to_html(include_plotlyjs="cdn",
                                              full_html=False),
            "text/plain": f"<plotly figure: {self.figure.layout.title.text}>",
        }  # fmt: skip
        self.output.outputs = (
            {"output_type": "display_data", "data": bundle, "metadata": {}},
        )


def curves_figure() -> go.Figure:
    """An empty two-panel figure: losses (left), validation metric (right).

    Traces 0-2 are training loss, validation loss and the metric.
    """
    fig = make_subplots(rows=1, cols=2,
                        subplot_titles=("loss", "validation metric"))
    fig.add_scatter(x=[], y=[], name="train loss", mode="lines+markers",
                    row=1, col=1)
    fig.add_scatter(x=[], y=[], name="val loss", mode="lines+markers",
                    row=1, col=1)
    fig.add_scatter(x=[], y=[], name="val metric", mode="lines+markers",
                    row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=360, margin=dict(t=60, b=40, l=50, r=20))
    return fig


def _rate_slider(name: str, value: float,
                 style: dict) -> widgets.FloatLogSlider:
    """A log-scale learning-rate slider; refuses values it would clip."""
    low, high = (10 ** b for b in LR_RANGE)
    if not low <= value <= high:
        raise ValueError(
            f"{name} must be between {low:g} and {high:g} (got {value!r})."
        )
    return widgets.FloatLogSlider(
        value=value, base=10, min=LR_RANGE[0], max=LR_RANGE[1], step=0.1,
        description=name, readout_format=".1e", style=style)


class TrainingDashboard:
    """Pick a dataset, model, LM strategy, learning rates and epochs; press
    Run and watch loss and validation metric grow epoch by epoch.

    Run trains in a background thread so that Stop is processed while
    training runs; Stop ends training after the current epoch and the
    model keeps its best weights (``fit`` restores them). The status label
    reports the best validation score at the end.

    Args:
        dataset (str or GraphDataset): a shipped name or your own dataset.
            (default: ``"MUTAG"``)
        model (str): ``"gin"``, ``"gcn"``, ``"gat"``, ``"sage"`` or
            ``"mlp"``. (default: ``"gin"``)
        epochs (int): initial epochs. (default: ``20``)
        lr (float): GNN learning rate. (default: ``1e-2``)
        lm_lr (float): LM learning rate of joint strategies.
            (default: ``2e-5``)
        callbacks (sequence of callables): extra ``fit`` callbacks, called
            before the dashboard's own each epoch.
        **settings: other :class:`~gnnkit.viz.app.RunSettings` fields
            (``hidden_channels``, ``num_layers``, ``batch_size``, ...).

    Attributes:
        result (FitResult): the last run's result (``None`` before).
        prepared (PreparedRun): the last run's dataset, model and task;
            ``prepared.model`` holds the best weights after a run.

    Example:
        >>> dash = TrainingDashboard("MUTAG", epochs=5)
        >>> dash            # in a notebook: shows the widgets
        >>> dash.run()      # or press Run
    """

    def __init__(
        self,
        dataset: str | GraphDataset = "MUTAG",
        model: str = "gin",
        *,
        epochs: int = 20,
        lr: float = 1e-2,
        lm_lr: float = 2e-5,
        callbacks: Sequence[Callback] = (),
        **settings: Any,
    ) -> None:
        self._own: dict[str, GraphDataset] = {}
        dataset = self._resolve(dataset)
        self.base = RunSettings(dataset=dataset, model=model, epochs=epochs,
                                lr=lr, lm_lr=lm_lr, **settings)
        self.callbacks = list(callbacks)
        self.result: FitResult | None = None
        self.prepared: PreparedRun | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._build_controls()
        self.figure = curves_figure()
        self.plot = FigurePane(self.figure)
        self.widget = self._layout()
        self._refresh_strategies()

    def _resolve(self, dataset: Any) -> str:
        """The dropdown name of ``dataset``; a path or a GraphDataset is
        loaded and offered first under its name."""
        if not isinstance(dataset, (str, os.PathLike, GraphDataset)):
            raise TypeError(
                "dataset must be a shipped dataset name, a path or a "
                f"GraphDataset (got {type(dataset).__name__}); see "
                "list_datasets()."
            )
        names = {n.lower(): n for n in list_datasets()}
        if isinstance(dataset, str) and dataset.lower() in names:
            return names[dataset.lower()]
        if not isinstance(dataset, GraphDataset):
            dataset = load_dataset(dataset)  # DataError for a bad path
        self._own[dataset.name] = dataset
        return dataset.name

    # -- widgets -----------------------------------------------------------
    def _build_controls(self) -> None:
        names = [*self._own, *list_datasets()]
        style = {"description_width": "110px"}
        self.dataset = widgets.Dropdown(
            options=names, value=self.base.dataset, description="Dataset",
            style=style)
        self.model = widgets.Dropdown(
            options=MODEL_CHOICES, value=self.base.model,
            description="Model", style=style)
        self.lm_strategy = widgets.Dropdown(
            options=["none"], value="none", description="LM strategy",
            style=style)
        self.lr = _rate_slider("GNN lr", self.base.lr, style)
        self.lm_lr = _rate_slider("LM lr", self.base.lm_lr, style)
        self.epochs = widgets.IntSlider(
            value=self.base.epochs, min=1, max=max(300, self.base.epochs),
            description="Epochs", style=style)
        self.run_button = widgets.Button(
            description="Run", button_style="primary", icon="play")
        self.stop_button = widgets.Button(
            description="Stop", button_style="warning", icon="stop",
            disabled=True)
        self.status = widgets.Label(value=READY)
        self.run_button.on_click(lambda _: self.run(block=False))
        self.stop_button.on_click(lambda _: self.stop())
        self.dataset.observe(lambda _: self._refresh_strategies(), "value")
        self.lm_strategy.observe(lambda _: self._refresh_lm_lr(), "value")

    def _layout(self) -> widgets.Widget:
        left = widgets.VBox([self.dataset, self.model, self.lm_strategy])
        right = widgets.VBox([self.lr, self.lm_lr, self.epochs])
        buttons = widgets.HBox([self.run_button, self.stop_button,
                                self.status])
        return widgets.VBox([widgets.HBox([left, right]), buttons,
                             self.plot.output])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _dataset(self) -> GraphDataset:
        name = self.dataset.value
        return self._own.get(name) or cached_dataset(name)

    def _refresh_strategies(self) -> None:
        options = lm_strategies(self._dataset())
        self.lm_strategy.options = options
        self.lm_strategy.value = options[0]
        self._refresh_lm_lr()

    def _refresh_lm_lr(self) -> None:
        self.lm_lr.disabled = self.lm_strategy.value in ("none", "cascade",
                                                         "frozen")

    # -- running -----------------------------------------------------------
    def settings(self) -> RunSettings:
        """The :class:`~gnnkit.viz.app.RunSettings` the widgets show now."""
        values = dict(vars(self.base))
        values.update(
            dataset=self.dataset.value, model=self.model.value,
            lm_strategy=self.lm_strategy.value, lr=self.lr.value,
            lm_lr=self.lm_lr.value, epochs=self.epochs.value,
        )  # fmt: skip
        return RunSettings(**values)

    @property
    def running(self) -> bool:
        """Whether a background run is in progress."""
        return self._thread is not None and self._thread.is_alive()

    def run(self, block: bool = True) -> FitResult | None:
        """Train with the current widget values.

        Args:
            block (bool): train in this thread and return the result
                (``True``, for scripts and tests), or in a background
                thread (``False``, what the Run button does).

        Returns:
            FitResult: the result when ``block`` is true, else ``None``.

        Raises:
            RuntimeError: if a run is already in progress.
        """
        if self.running:
            raise RuntimeError("A run is in progress; press Stop first.")
        self._start()
        if not block:
            self._thread = threading.Thread(target=self._train, daemon=True)
            self._thread.start()
            return None
        self._train()
        if self.error is not None:
            raise self.error
        return self.result

    def stop(self) -> None:
        """Ask the run to end after the current epoch (best model kept)."""
        self._stop.set()
        self.stop_button.disabled = True
        if self.running:
            self.status.value = "Stopping after this epoch..."

    def wait(self, timeout: float | None = None) -> None:
        """Block until a background run has finished."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _start(self) -> None:
        self._stop.clear()
        self.result, self.prepared, self.error = None, None, None
        for trace in self.figure.data:
            trace.x, trace.y = [], []
        self.plot.show()
        self.run_button.disabled = True
        self.stop_button.disabled = False
        self.status.value = "Preparing data and model..."

    def _train(self) -> None:
        try:
            settings = self.settings()
            own = self._own.get(settings.dataset)
            self.prepared = prepare_run(settings, own)
            self._label_metric(self.prepared.task.monitor)
            self.status.value = f"Training {settings.model.upper()} on " \
                f"{settings.dataset}..."
            self.result = fit(
                self.prepared.model, self.prepared.task,
                self.prepared.config,
                callbacks=[*self.callbacks, self._on_epoch],
            )  # fmt: skip
            self.status.value = self._summary(self.result)
        except Exception as exc:  # shown in the status label, kept in .error
            logger.exception("dashboard run failed")
            self.error = exc
            self.status.value = f"Error: {exc}"
        finally:
            self.run_button.disabled = False
            self.stop_button.disabled = True

    def _label_metric(self, monitor: str) -> None:
        self.figure.data[2].name = _metric_label(monitor)
        self.figure.layout.annotations[1].text = _metric_label(monitor)
        share = monitor.endswith("accuracy")
        self.figure.update_yaxes(range=[0, 1.02] if share else None,
                                 autorange=not share, row=1, col=2)
        self.plot.show()

    def _on_epoch(self, epoch: int, record: dict) -> bool:
        """The ``fit`` callback: extend the curves; stop when asked."""
        monitor = self.prepared.task.monitor
        values = (record.get("loss"), record.get("val_loss"),
                  record.get(monitor))
        for trace, value in zip(self.figure.data, values):
            trace.x = (*trace.x, epoch)
            trace.y = (*trace.y, value)
        self.plot.show()
        self.status.value = f"Epoch {epoch}/{self.prepared.config.epochs}: " \
            f"loss {record['loss']:.4f}"
        return self._stop.is_set()

    def _summary(self, result: FitResult) -> str:
        label = _metric_label(result.monitor)
        done = len(result.history)
        head = f"Stopped after epoch {done}" \
            if result.stopped_by_callback else "Done"
        if result.best_score is None:
            return f"{head}: no finite {label} in {done} epochs"
        return (f"{head}: best {label} {result.best_score:.4f} "
                f"at epoch {result.best_epoch}")
