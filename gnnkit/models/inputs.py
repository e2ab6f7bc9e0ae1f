"""Which edge inputs a model is given: the ones it declares it uses."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn


def edge_inputs(model: nn.Module, edge_attr: Tensor | None = None,
                edge_weight: Tensor | None = None,
                adjacency: Any = None) -> dict[str, Any]:
    """Keyword edge inputs for ``model(x, edge_index, batch, ...)``.

    ``edge_attr`` is left out for a model whose ``edge_dim`` is ``None``
    and ``edge_weight`` for one with ``supports_edge_weight = False``, so
    datasets with edge features train models that ignore them silently;
    ``adjacency`` goes only to models that declare ``uses_adjacency``.
    """
    if getattr(model, "edge_dim", 0) is None:
        edge_attr = None
    if not getattr(model, "supports_edge_weight", True):
        edge_weight = None
    inputs = {"edge_attr": edge_attr, "edge_weight": edge_weight}
    if adjacency is not None and getattr(model, "uses_adjacency", False):
        inputs["adjacency"] = adjacency
    return inputs
