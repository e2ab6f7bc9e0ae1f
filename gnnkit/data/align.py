"""Line up the node and edge features of new graphs with those a model was
trained on.

Columns are matched by feature name and put on the training data's scale
(see :mod:`gnnkit.data.scaling`), so a saved model reads new files the
same way it read its training data.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import torch

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.scaling import FeatureScaling
from gnnkit.errors import DataError


def align_features(
    dataset: GraphDataset,
    feature_names: Sequence[str],
    scaling: dict[str, Any] | FeatureScaling | None = None,
) -> GraphDataset:
    """Reorder the columns of every ``x`` to ``feature_names`` and scale
    them as the training data was.

    A one-hot feature the new graphs lack (a name such as
    ``node_label=7``: a label value that never occurs) becomes a column of
    zeros; any other feature the model needs must be present. A feature
    the model never saw is dropped with a warning that names it. A model
    trained without features (``["constant"]``) gets a column of ones.

    With ``scaling`` (the training data's ``meta["feature_scaling"]``),
    the named columns are z-scored with the training means and stds; a
    dataset that was read scaled with its own statistics is first put
    back in its raw units. Without it the values are left as they are.

    Args:
        dataset (GraphDataset): graphs read from new files.
        feature_names (list[str]): the training dataset's
            ``feature_names``, in column order.
        scaling (dict or FeatureScaling, optional): the training data's
            feature scaling.

    Returns:
        GraphDataset: the same dataset, its ``x`` replaced in place.

    Raises:
        DataError: if the new graphs carry no feature names, share no
            feature with the model, or lack a feature that is not one-hot.
    """
    have = list(dataset.feature_names or [])
    feature_names = list(feature_names)
    if feature_names == ["constant"]:
        return _constant(dataset) if have != feature_names else dataset
    if scaling is not None:
        _unscale(dataset, have)
    if have != feature_names:
        _check_skipped(dataset.meta.get("skipped_features", {}),
                       feature_names)
        _reorder_all(dataset, have, feature_names, "x")
        dataset.feature_names = feature_names
    if scaling is not None:
        if isinstance(scaling, dict):
            scaling = FeatureScaling.from_dict(scaling)
        for graph in dataset.graphs:
            graph.x = scaling.transform(graph.x, feature_names)
            _check_scaled(graph.x, feature_names, dataset.name)
        dataset.meta["feature_scaling"] = scaling.to_dict()
    return dataset


def _check_scaled(x: torch.Tensor, names: list[str], name: str) -> None:
    """A value outside float32 range once put on the training scale."""
    bad = ~torch.isfinite(x).all(dim=0)
    if bad.any():
        raise DataError(
            f"dataset '{name}' has a value too far from the training data "
            "to scale (it leaves the 32-bit float range).",
            field=names[int(bad.nonzero()[0])],
        )


def _unscale(dataset: GraphDataset, names: list[str]) -> None:
    """Undo the scaling a reader applied with the dataset's own stats."""
    own = dataset.meta.pop("feature_scaling", None)
    if own is None:
        return
    own = FeatureScaling.from_dict(own)
    for graph in dataset.graphs:
        graph.x = own.inverse(graph.x, names)


def align_edge_features(
    dataset: GraphDataset,
    edge_feature_names: Sequence[str] | None,
    width: int,
) -> GraphDataset:
    """Reorder every ``edge_attr`` to a model's ``edge_feature_names``.

    Edge columns are matched by name exactly as :func:`align_features`
    matches node columns: a one-hot edge feature the new graphs lack (an
    edge label that never occurs) becomes zeros and one the model never
    saw is dropped with a warning naming it. Without recorded names
    (models saved before they were kept) the widths must agree.

    Args:
        dataset (GraphDataset): graphs read from new files.
        edge_feature_names (list[str], optional): the training dataset's
            ``meta["edge_feature_names"]``, in column order.
        width (int): the ``edge_attr`` width the model was built for.

    Returns:
        GraphDataset: the same dataset, its ``edge_attr`` replaced in place.

    Raises:
        DataError: if the new graphs carry no edge features, share none
            with the model, lack a column that is not one-hot, or (without
            names) have another width.
    """
    where = dataset.meta.get("path")
    if not dataset.num_edge_features:
        names = f" {list(edge_feature_names)[:10]}" if edge_feature_names \
            else ""
        raise DataError(
            f"dataset '{dataset.name}' has no edge features, but the model "
            f"was trained on {width}{names}; give the new graphs the same "
            "edge labels or attributes (e.g. an edge_labels.txt file).",
            path=where,
        )
    have = list(dataset.meta.get("edge_feature_names") or [])
    if edge_feature_names is None:
        if dataset.num_edge_features != width:
            raise DataError(
                f"dataset '{dataset.name}' has {dataset.num_edge_features} "
                f"edge features, the model {width}; give the new graphs "
                "the same edge labels or attributes.",
                path=where,
            )
        return dataset
    names = list(edge_feature_names)
    if have != names:
        _reorder_all(dataset, have, names, "edge_attr")
        dataset.meta["edge_feature_names"] = names
    return dataset


def _reorder_all(dataset: GraphDataset, have: list[str],
                 feature_names: list[str], attr: str) -> None:
    """Put the columns of ``attr`` (``x`` or ``edge_attr``) of every
    graph in the model's order."""
    what = "feature" if attr == "x" else "edge feature"
    if not have:
        raise DataError(
            f"dataset '{dataset.name}' has no {what} names, so its "
            f"columns cannot be matched to the model's {what}s."
        )
    position = {name: i for i, name in enumerate(have)}
    _check_shared(dataset.name, have, feature_names, position, what)
    unknown = [n for n in have if n not in set(feature_names)]
    if unknown:
        warnings.warn(
            f"dropping {len(unknown)} {what}(s) the model never saw: "
            f"{unknown[:10]}",
            stacklevel=3,
        )
    for graph in dataset.graphs:
        value = getattr(graph, attr, None)
        if value is None:  # a graph without edges
            value = torch.zeros(graph.num_edges, len(have))
        setattr(graph, attr, _reorder(value, position, feature_names))


def _check_skipped(skipped: dict[str, dict], feature_names) -> None:
    """A model feature the reader left out for a non-number cell."""
    for name in feature_names:
        if name in skipped:
            cell = skipped[name]
            raise DataError(
                f"{cell['value']!r} is not a number, so the column was not "
                "read, but the model was trained on it; fix the value.",
                path=cell["path"], line=cell["line"], field=name,
            )


def _check_shared(name, have, feature_names, position, what) -> None:
    """The model's features must be present, one-hot columns aside."""
    if not any(n in position for n in feature_names):
        raise DataError(
            f"dataset '{name}' shares no {what} with the model (model: "
            f"{feature_names[:5]}..., data: {have[:5]}...); read the new "
            "graphs the way the training data was read."
        )
    missing = [n for n in feature_names if n not in position and "=" not in n]
    if missing:
        raise DataError(
            f"dataset '{name}' lacks the {what} column(s) {missing[:10]} "
            f"the model was trained on; add them with the same names (the "
            f"data has {have[:10]})."
        )


def _constant(dataset: GraphDataset) -> GraphDataset:
    """Give every graph the ones column of a model trained without x."""
    if dataset.feature_names:
        warnings.warn(
            "the model was trained without node features; ignoring "
            f"{list(dataset.feature_names)[:10]}",
            stacklevel=3,
        )
    for graph in dataset.graphs:
        graph.x = torch.ones(graph.num_nodes, 1)
    dataset.feature_names = ["constant"]
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
