"""A model wrapper and pre-validated PyG ``Explainer`` set-ups, so every
gnnkit model can be explained with ``torch_geometric.explain`` (Captum
methods and GNNExplainer) without the ``batch``-argument and
pooling-outside-the-model traps (PyG issues #7039 and #8214)."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.explain import Explainer
from torch_geometric.explain.algorithm import CaptumExplainer, GNNExplainer
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.conv import (
    ChebConv,
    GCNConv,
    SGConv,
    TAGConv,
)

from gnnkit.errors import ModelError

METHODS = ("integrated_gradients", "saliency", "input_x_gradient",
           "gnnexplainer")
DEFAULT_METHOD = "integrated_gradients"
CAPTUM_NAMES = {
    "integrated_gradients": "IntegratedGradients",
    "saliency": "Saliency",
    "input_x_gradient": "InputXGradient",
}
# Keyword arguments the wrapper forwards, in the order Captum passes them.
MODEL_ARGS = ("batch", "edge_attr", "edge_weight", "num_graphs")
# Layers whose messages are scaled by the degree of the sending node, so
# exact k-hop explanations need one more hop of context.
_DEGREE_NORMALISED = (GCNConv, ChebConv, SGConv, TAGConv)


class ExplainableModel(nn.Module):
    """Any gnnkit (or PyG-style) model behind one explainer-safe signature.

    PyG's ``CaptumExplainer`` passes extra model inputs positionally, in
    the order they were given, and calls the model once per integration
    step. This wrapper always takes ``(x, edge_index, batch, edge_attr,
    edge_weight, num_graphs)`` in that order, passes the model only the
    inputs its ``forward`` declares and uses, applies a sigmoid for
    single-logit binary classifiers, and checks that a graph-level model
    pools inside ``forward`` (one row per graph).

    Args:
        model (nn.Module): the model to explain, e.g. from
            :func:`~gnnkit.models.backbones.build_model`.
        level (str): ``"graph"`` or ``"node"``.
        apply_sigmoid (bool, optional): turn a single logit into a
            probability (binary classification). (default: ``False``)

    Raises:
        ModelError: if a graph-level model takes no ``batch`` argument.
    """

    def __init__(
        self, model: nn.Module, level: str, *, apply_sigmoid: bool = False
    ) -> None:
        super().__init__()
        if level not in ("graph", "node"):
            raise ValueError(
                f"level must be 'graph' or 'node' (got {level!r})."
            )
        self.model = model
        self.level = level
        self.apply_sigmoid = apply_sigmoid
        self.accepts = _accepted_args(model)
        # PyG's Explainer restores the wrapper's mode onto the model.
        self.train(model.training)
        if level == "graph" and "batch" not in self.accepts:
            raise ModelError(
                f"{type(model).__name__}.forward takes no 'batch' argument, "
                "so it cannot pool a batch of graphs; explain a model whose "
                "forward(x, edge_index, batch) pools inside (PyG #8214)."
            )

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        batch: Tensor | None = None,
        edge_attr: Tensor | None = None,
        edge_weight: Tensor | None = None,
        num_graphs: int | None = None,
    ) -> Tensor:
        """Outputs of the wrapped model: ``[num_graphs, C]`` or
        ``[num_nodes, C]`` (probabilities with ``apply_sigmoid``)."""
        given = dict(batch=batch, edge_attr=edge_attr,
                     edge_weight=edge_weight, num_graphs=num_graphs)
        kwargs = {k: v for k, v in given.items()
                  if v is not None and k in self.accepts}
        out = self.model(x, edge_index, **kwargs)
        self._check_rows(out, x, batch, num_graphs)
        return out.sigmoid() if self.apply_sigmoid else out

    def _check_rows(self, out, x, batch, num_graphs) -> None:
        if self.level == "node":
            expected, what = x.size(0), "nodes"
        elif num_graphs is not None:
            expected, what = int(num_graphs), "graphs"
        else:
            expected = 1 if batch is None or batch.numel() == 0 \
                else int(batch.max()) + 1
            what = "graphs"
        if out.dim() == 0 or out.size(0) != expected:
            raise ModelError(
                f"{type(self.model).__name__} returned {list(out.shape)} "
                f"for {expected} {what}; a {self.level}-level explanation "
                f"needs one output row per {what[:-1]}"
                + (" (pooling must happen inside the model's forward)."
                   if self.level == "graph" else ".")
            )

    def extra_repr(self) -> str:
        """Level and output transform, shown in ``repr``."""
        return f"level={self.level!r}, apply_sigmoid={self.apply_sigmoid}"


def _accepted_args(model: nn.Module) -> set[str]:
    params = inspect.signature(model.forward).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        accepted = set(MODEL_ARGS)
    else:
        accepted = set(params) & set(MODEL_ARGS)
    if getattr(model, "edge_dim", 0) is None:
        accepted.discard("edge_attr")
    if not getattr(model, "supports_edge_weight", True):
        accepted.discard("edge_weight")
    return accepted


def message_passing_layers(model: nn.Module) -> list[MessagePassing]:
    """The message-passing layers of ``model``, in registration order."""
    return [m for m in model.modules() if isinstance(m, MessagePassing)]


def reset_edge_masks(model: nn.Module) -> None:
    """Remove explainer edge masks from every layer of ``model``.

    GNNExplainer registers each layer's ``_edge_mask`` as a parameter and
    PyG's ``clear_masks`` leaves the registration behind, so a later
    Captum explanation would wrap its mask in a fresh parameter and get no
    gradient. This clears the registration too.
    """
    for layer in message_passing_layers(model):
        layer._parameters.pop("_edge_mask", None)
        layer._edge_mask = None
        layer._loop_mask = None
        layer._apply_sigmoid = True
        if layer.explain:
            layer.explain = None


def receptive_hops(model: nn.Module) -> tuple[int, int]:
    """Hops a node's prediction depends on, and hops needed to compute it.

    Returns:
        tuple[int, int]: ``(k, k_compute)`` where ``k`` is the number of
        message-passing layers and ``k_compute`` is ``k + 1`` when some
        layer normalises by degree (GCN), since the degree of a node
        ``k`` hops away counts edges from ``k + 1`` hops away.
    """
    layers = message_passing_layers(model)
    extra = any(
        isinstance(m, _DEGREE_NORMALISED) and getattr(m, "normalize", True)
        for m in layers
    )
    return len(layers), len(layers) + int(extra)


def adds_self_loops(model: nn.Module) -> bool:
    """Whether some layer of ``model`` adds self-loops of its own."""
    return any(getattr(m, "add_self_loops", False)
               for m in message_passing_layers(model))


def model_config(
    level: str, task: str, out_channels: int
) -> dict[str, str]:
    """PyG ``ModelConfig`` for a gnnkit model's outputs.

    Args:
        level (str): ``"graph"`` or ``"node"``.
        task (str): ``"classification"`` or ``"regression"``.
        out_channels (int): width of the model output.

    Returns:
        dict: ``mode``, ``task_level`` and ``return_type``; a classifier
        with one output is binary and explained on probabilities, as
        ``CaptumExplainer`` requires.
    """
    if task == "regression":
        mode, return_type = "regression", "raw"
    elif out_channels == 1:
        mode, return_type = "binary_classification", "probs"
    else:
        mode, return_type = "multiclass_classification", "raw"
    return dict(mode=mode, task_level=level, return_type=return_type)


def check_method(method: str) -> str:
    """Return ``method`` if gnnkit knows it, else raise ValueError."""
    if method not in METHODS:
        raise ValueError(
            f"Unknown explanation method {method!r}; choose one of "
            f"{list(METHODS)} (default: {DEFAULT_METHOD!r})."
        )
    return method


def algorithm(
    method: str, *, n_steps: int = 50, epochs: int = 100, lr: float = 0.01
) -> Any:
    """The PyG explainer algorithm behind a gnnkit method name.

    Args:
        method (str): one of :data:`METHODS`.
        n_steps (int, optional): integration steps of Integrated
            Gradients. (default: ``50``)
        epochs (int, optional): GNNExplainer optimisation steps.
            (default: ``100``)
        lr (float, optional): GNNExplainer learning rate.
            (default: ``0.01``)
    """
    check_method(method)
    if method == "gnnexplainer":
        return GNNExplainer(epochs=epochs, lr=lr)
    kwargs = {"n_steps": n_steps} if method == "integrated_gradients" else {}
    return CaptumExplainer(CAPTUM_NAMES[method], **kwargs)


def make_explainer(
    model: nn.Module,
    *,
    level: str,
    task: str = "classification",
    method: str = DEFAULT_METHOD,
    out_channels: int | None = None,
    **options: Any,
) -> Explainer:
    """A PyG :class:`~torch_geometric.explain.Explainer` set up for
    ``model`` at ``level``, with masks the method supports.

    Node masks are per feature (``"attributes"``); edge masks are per edge
    (``"object"``) when the model passes messages, and off otherwise.
    Explanations are of type ``"phenomenon"`` so the caller chooses the
    target (by default the predicted class).

    Args:
        model (nn.Module): the model (wrapped here in
            :class:`ExplainableModel`).
        level (str): ``"graph"`` or ``"node"``.
        task (str, optional): ``"classification"`` or ``"regression"``.
        method (str, optional): one of :data:`METHODS`.
            (default: ``"integrated_gradients"``)
        out_channels (int, optional): output width (default: read from
            ``model.config["out_channels"]``).
        **options: ``n_steps``, ``epochs`` or ``lr`` for :func:`algorithm`.

    Returns:
        Explainer: ready to call as ``explainer(x, edge_index,
        target=..., index=..., batch=..., edge_attr=..., edge_weight=...,
        num_graphs=...)`` with the keywords in that order.
    """
    out_channels = out_channels or _out_channels(model)
    config = model_config(level, task, out_channels)
    wrapper = ExplainableModel(
        model, level,
        apply_sigmoid=config["return_type"] == "probs",
    )
    has_edges = bool(message_passing_layers(model))
    return Explainer(
        wrapper,
        algorithm(method, **options),
        explanation_type="phenomenon",
        model_config=config,
        node_mask_type="attributes",
        edge_mask_type="object" if has_edges else None,
    )


def _out_channels(model: nn.Module) -> int:
    config = getattr(model, "config", None)
    if isinstance(config, dict) and "out_channels" in config:
        return int(config["out_channels"])
    raise ModelError(
        f"Cannot tell the output width of {type(model).__name__}; pass "
        "out_channels=... (number of classes, or 1 for a binary logit)."
    )


def predict_target(
    explainer: Explainer, prediction: Tensor, target: int | None, index: Any
) -> Tensor:
    """Targets for every output row: the prediction, with ``target``
    (if given) at row ``index``."""
    mode = explainer.model_config.mode.value
    if mode == "regression":
        return prediction.detach().clone()
    labels = explainer.get_target(prediction).clone()
    if target is not None:
        labels[torch.as_tensor(index)] = int(target)
    return labels
