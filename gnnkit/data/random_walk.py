"""Random-walk structural encodings as extra node features.

Entry ``k`` of a node's encoding is the probability that a random walk
from it is back after ``k`` steps (RWSE; Dwivedi et al., 2022), computed
per graph with PyG's :class:`~torch_geometric.transforms.AddRandomWalkPE`.
Each graph's encoding depends on that graph alone, so adding it before
cross-validation leaks nothing between folds.
"""

from __future__ import annotations

import torch
from torch_geometric.transforms import AddRandomWalkPE

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError

#: Name stem of the encoding's columns: ``rwse_1`` .. ``rwse_<steps>``.
RWSE_PREFIX = "rwse_"


def add_random_walk_features(
    dataset: GraphDataset, steps: int
) -> GraphDataset:
    """Append the ``steps`` return probabilities of every node to ``x``,
    in place, as columns ``rwse_1`` .. ``rwse_<steps>``.

    A walk leaves a node along one of its out-edges with equal
    probability (weighted by ``edge_weight`` when the graphs carry it);
    a node without out-edges stays at probability 0.

    Args:
        dataset (GraphDataset): graphs with ``x`` and ``edge_index``.
        steps (int): walk lengths encoded, ``1..steps``.

    Returns:
        GraphDataset: the same dataset, its ``x`` widened in place.

    Raises:
        DataError: for ``steps < 1``, or a dataset that already carries
            random-walk columns.

    Example:
        >>> dataset = add_random_walk_features(load_dataset("MUTAG"), 8)
        >>> dataset.feature_names[-1]
        'rwse_8'
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise DataError(f"random-walk steps must be an integer >= 1 "
                        f"(got {steps!r}).")
    names = list(dataset.feature_names or [])
    if any(name.startswith(RWSE_PREFIX) for name in names):
        raise DataError(
            f"dataset '{dataset.name}' already has random-walk features "
            f"({RWSE_PREFIX}*); add them once."
        )
    encode = AddRandomWalkPE(steps, attr_name="rwse")
    for graph in dataset.graphs:
        rwse = encode(graph.clone()).rwse
        graph.x = rwse if graph.x is None else torch.cat([graph.x, rwse], 1)
    dataset.feature_names = names + [f"{RWSE_PREFIX}{k}"
                                     for k in range(1, steps + 1)]
    return dataset


def add_random_walk_features_like(
    dataset: GraphDataset, feature_names: list[str] | None
) -> GraphDataset:
    """Give new graphs the random-walk columns a saved model was trained
    with: as many steps as ``feature_names`` has ``rwse_*`` names (none
    when it has none), before their columns are aligned to it."""
    steps = sum(name.startswith(RWSE_PREFIX) for name in feature_names or [])
    return add_random_walk_features(dataset, steps) if steps else dataset
