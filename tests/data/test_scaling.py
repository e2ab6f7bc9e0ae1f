import math

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from gnnkit.data.align import align_features
from gnnkit.data.dataset import GraphDataset
from gnnkit.data.scaling import FeatureScaling
from gnnkit.data.tables import read_csv_graph
from gnnkit.errors import DataError


def _tables(tmp_path, rows, name="n"):
    nodes = tmp_path / f"{name}.csv"
    nodes.write_text("id,year,score,flag,const,label\n" + rows)
    edges = tmp_path / f"{name}_e.csv"
    edges.write_text("source,target\na,b\n")
    return edges, nodes


ROWS = ("a,1990,0.5,0,7,x\n"
        "b,2000,1.5,1,7,y\n"
        "c,2020,1.0,1,7,x\n")


def test_read_csv_graph_z_scores_numeric_columns(tmp_path):
    data = read_csv_graph(*_tables(tmp_path, ROWS))
    x = data[0].x

    # year: mean 2003.33, population std 12.472
    std = math.sqrt(((1990 - 6010 / 3) ** 2 + (2000 - 6010 / 3) ** 2
                     + (2020 - 6010 / 3) ** 2) / 3)
    assert x[:, 0].tolist() == pytest.approx(
        [(v - 6010 / 3) / std for v in (1990, 2000, 2020)], abs=1e-6)
    assert x[:, 0].tolist() == pytest.approx([-1.069, -0.267, 1.336],
                                             abs=1e-3)
    assert x[:, 1].tolist() == pytest.approx([-1.2247, 1.2247, 0.0],
                                             abs=1e-4)
    assert x[:, 2].tolist() == [0.0, 1.0, 1.0]  # 0/1 column kept as is
    assert x[:, 3].tolist() == [0.0, 0.0, 0.0]  # constant column -> 0
    record = data.meta["feature_scaling"]
    assert record["columns"] == ["year", "score", "flag", "const"]
    assert record["mean"] == pytest.approx([6010 / 3, 1.0, 0.0, 7.0])
    assert record["std"] == pytest.approx([std, math.sqrt(1 / 6), 1.0, 1.0])


def test_read_csv_graph_scale_false_keeps_values(tmp_path):
    data = read_csv_graph(*_tables(tmp_path, ROWS), scale=False)

    assert data[0].x[:, 0].tolist() == [1990.0, 2000.0, 2020.0]
    assert "feature_scaling" not in data.meta


def test_align_features_applies_training_scaling(tmp_path):
    train = read_csv_graph(*_tables(tmp_path, ROWS))
    scaling = train.meta["feature_scaling"]
    new_rows = "a,2003.3333333,2.0,1,7,x\nb,1990,1.0,0,7,y\n"
    for scale in (False, True):  # read raw, or scaled with its own stats
        new = read_csv_graph(*_tables(tmp_path, new_rows, "new"),
                             label=None, scale=scale)
        align_features(new, ["score", "year", "flag", "const"], scaling)
        x = new[0].x
        # columns now in the model's order, on the training scale
        assert x[:, 0].tolist() == pytest.approx(
            [1 / math.sqrt(1 / 6), 0.0], abs=1e-4)
        assert x[:, 1].tolist() == pytest.approx([0.0, -1.069], abs=1e-3)
        assert x[:, 2].tolist() == [1.0, 0.0]
        assert x[:, 3].tolist() == [0.0, 0.0]
        assert new.meta["feature_scaling"] == scaling


def test_feature_scaling_round_trip():
    scaling = FeatureScaling.fit(torch.tensor([[1.0, 4.0], [3.0, 4.0]])
                                 .numpy(), ["a", "b"])
    x = torch.tensor([[5.0, 4.0]])

    scaled = scaling.transform(x, ["a", "b"])
    assert scaled.tolist() == [[3.0, 0.0]]
    assert scaling.inverse(scaled, ["a", "b"]).tolist() == x.tolist()
    assert FeatureScaling.from_dict(scaling.to_dict()) == scaling


def test_values_beyond_float32_are_named(tmp_path):
    rows = ROWS.replace("b,2000,", "b,-1e308,")
    with pytest.raises(DataError, match=r"n.csv, line 3, field 'year': "
                                        r"feature value '-1e308' is too"):
        read_csv_graph(*_tables(tmp_path, rows), label="label")
    with pytest.raises(DataError, match=r"field 'w': the column's mean or "
                                        r"std is not a finite number"):
        FeatureScaling.fit(np.array([[1e200], [-1e200], [3.0]]), ["w"])


def test_new_value_far_off_the_training_scale_is_named():
    scaling = FeatureScaling(["year"], [2000.0], [1e-30])
    data = GraphDataset([Data(x=torch.tensor([[3e38]]), num_nodes=1)],
                        level="node", name="new", feature_names=["year"])
    with pytest.raises(DataError, match=r"field 'year': dataset 'new' has a "
                                        r"value too far from the training"):
        align_features(data, ["year"], scaling)


def test_feature_list_names_a_repeat_and_takes_one_name(tmp_path):
    edges, nodes = _tables(tmp_path, ROWS)
    with pytest.raises(DataError, match=r"n.csv, field 'year': feature "
                                        r"column 'year' is named twice"):
        read_csv_graph(edges, nodes, features=["year", "score", "year"])
    data = read_csv_graph(edges, nodes, features="year", scale=False)
    assert data.feature_names == ["year"]
    assert data[0].x.view(-1).tolist() == [1990.0, 2000.0, 2020.0]
