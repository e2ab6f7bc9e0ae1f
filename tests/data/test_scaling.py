import math

import pytest
import torch

from gnnkit.data.align import align_features
from gnnkit.data.scaling import FeatureScaling
from gnnkit.data.tables import read_csv_graph


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
