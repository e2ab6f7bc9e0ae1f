import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.align import align_features
from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError


def _dataset(names, x):
    graph = Data(x=x, edge_index=torch.empty(2, 0, dtype=torch.long),
                 y=torch.tensor([0]))
    return GraphDataset([graph], classes=[0, 1], feature_names=names)


def test_align_features_reorders_and_fills_zeros():
    data = _dataset(["b", "a"], torch.tensor([[1.0, 2.0]]))

    align_features(data, ["a", "c=1", "b"])

    assert data.graphs[0].x.tolist() == [[2.0, 0.0, 1.0]]
    assert data.feature_names == ["a", "c=1", "b"]


def test_align_features_missing_plain_column_raises():
    # A numeric column the model needs is not a label that never occurs:
    # filling it with zeros would be a silent wrong prediction.
    data = _dataset(["b", "a"], torch.tensor([[1.0, 2.0]]))

    with pytest.raises(DataError, match=r"lacks the feature column\(s\) "
                       r"\['c'\] the model was trained on"):
        align_features(data, ["a", "c", "b"])


def test_align_features_constant_model_gets_ones():
    data = _dataset(["f"], torch.tensor([[7.0], [9.0]]))

    with pytest.warns(UserWarning, match=r"without node features; "
                      r"ignoring \['f'\]"):
        align_features(data, ["constant"])

    assert data.graphs[0].x.tolist() == [[1.0], [1.0]]
    assert data.feature_names == ["constant"]


def test_align_features_warns_on_unknown_feature():
    data = _dataset(["a", "z"], torch.tensor([[1.0, 5.0]]))

    with pytest.warns(UserWarning, match="never saw.*'z'"):
        align_features(data, ["a"])
    assert data.graphs[0].x.tolist() == [[1.0]]


def test_align_features_without_overlap_raises():
    data = _dataset(["q"], torch.tensor([[1.0]]))

    with pytest.raises(DataError, match="shares no feature"):
        align_features(data, ["a"])
