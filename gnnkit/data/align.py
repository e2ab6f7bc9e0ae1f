"""Line up the features of new graphs with those a model was trained on.

Columns are matched by feature name, so a saved model reads new files the
same way it read its training data.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import torch

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError


def align_features(
    dataset: GraphDataset, feature_names: Sequence[str]
) -> GraphDataset:
    """Reorder the columns of every ``x`` to ``feature_names``.

    A feature the new graphs lack becomes a column of zeros (a node label
    value that never occurs, say); a feature the model never saw is
    dropped with a warning that names it.

    Args:
        dataset (GraphDataset): graphs read from new files.
        feature_names (list[str]): the training dataset's
            ``feature_names``, in column order.

    Returns:
        GraphDataset: the same dataset, its ``x`` replaced in place.

    Raises:
        DataError: if the new graphs carry no feature names, or share no
            feature with the model.
    """
    have = list(dataset.feature_names or [])
    if have == list(feature_names):
        return dataset
    if not have:
        raise DataError(
            f"dataset '{dataset.name}' has no feature names, so its "
            "columns cannot be matched to the model's features."
        )
    position = {name: i for i, name in enumerate(have)}
    shared = [n for n in feature_names if n in position]
    if not shared:
        raise DataError(
            f"dataset '{dataset.name}' shares no feature with the model "
            f"(model: {list(feature_names)[:5]}..., data: {have[:5]}...)."
        )
    unknown = [n for n in have if n not in set(feature_names)]
    if unknown:
        warnings.warn(
            f"dropping {len(unknown)} feature(s) the model never saw: "
            f"{unknown[:10]}",
            stacklevel=2,
        )
    for graph in dataset.graphs:
        graph.x = _reorder(graph.x, position, feature_names)
    dataset.feature_names = list(feature_names)
    return dataset


def _reorder(
    x: torch.Tensor, position: dict[str, int], names: Sequence[str]
) -> torch.Tensor:
    """Columns of ``x`` in the order of ``names``, zeros where absent."""
    out = x.new_zeros(x.size(0), len(names))
    for j, name in enumerate(names):
        if name in position:
            out[:, j] = x[:, position[name]]
    return out
