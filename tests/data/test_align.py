import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.align import align_edge_features, align_features
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


def _edge_dataset(names, edge_attr):
    graph = Data(x=torch.ones(3, 1),
                 edge_index=torch.tensor([[0, 1], [1, 2]]),
                 edge_attr=edge_attr, y=torch.tensor([0]))
    return GraphDataset([graph], classes=[0, 1], feature_names=["f"],
                        meta={"edge_feature_names": names,
                              "path": "new_folder"})


def test_align_edge_features_by_name_like_node_features():
    # labels 1 and 4 only: 'edge_label=0' never occurs (zeros) and
    # 'edge_label=4' is one the model never saw (dropped, one warning)
    data = _edge_dataset(["edge_label=1", "edge_label=4"],
                         torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    model_names = ["edge_label=0", "edge_label=1", "edge_label=2"]

    with pytest.warns(UserWarning, match=r"1 edge feature\(s\) the model "
                      r"never saw: \['edge_label=4'\]") as caught:
        align_edge_features(data, model_names, 3)

    assert len(caught) == 1
    assert data.graphs[0].edge_attr.tolist() == [[0.0, 1.0, 0.0],
                                                 [0.0, 0.0, 0.0]]
    assert data.meta["edge_feature_names"] == model_names


def test_align_edge_features_without_edge_features_names_input():
    data = _edge_dataset([], None)

    with pytest.raises(DataError, match=r"^new_folder: dataset 'dataset' "
                       r"has no edge features, but the model was trained "
                       r"on 2 \['a', 'b'\]"):
        align_edge_features(data, ["a", "b"], 2)


def test_align_edge_features_unnamed_model_needs_same_width():
    data = _edge_dataset(["a"], torch.ones(2, 1))

    with pytest.raises(DataError, match="has 1 edge features, the model 2"):
        align_edge_features(data, None, 2)
    assert align_edge_features(data, None, 1) is data
