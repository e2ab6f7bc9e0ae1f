from pathlib import Path

import pytest
import torch

from gnnkit.data.smiles_csv import read_smiles_csv
from gnnkit.errors import DataError
from gnnkit.evaluate.baselines import fingerprint_baseline, morgan_fingerprints
from gnnkit.evaluate.scaffold import random_split

ROOT = Path(__file__).resolve().parents[2]


def test_morgan_fingerprints_bits():
    fps = morgan_fingerprints(["C", "CCO", " CCO "], n_bits=1024)
    assert fps.shape == (3, 1024)
    assert fps[0].sum() == 1  # methane: one environment
    assert (fps[1] == fps[2]).all()
    assert fps[1].sum() > fps[0].sum()
    with pytest.raises(DataError, match=r"molecule 1 \('C1CC'\).*unclosed"):
        morgan_fingerprints(["C", "C1CC"])


def test_fingerprint_baseline_separates_amines_from_alcohols(tmp_path):
    rows = ["smiles,y"]
    for n in range(1, 11):
        rows += [f"{'C' * n}O,0", f"{'C' * n}N,1"]
    path = tmp_path / "toy.csv"
    path.write_text("\n".join(rows) + "\n")
    dataset = read_smiles_csv(path, target="y")
    train = torch.arange(0, 14)
    test = torch.arange(14, 20)
    out = fingerprint_baseline(dataset, train, test, n_estimators=50)
    assert out["roc_auc"] == 1.0
    assert out["accuracy"] == 1.0


def test_fingerprint_baseline_freesolv_beats_the_mean():
    dataset = read_smiles_csv(
        ROOT / "data" / "FreeSolv" / "SAMPL.csv",
        target="expt",
        task="regression",
    )
    split = random_split(dataset, seed=0)
    out = fingerprint_baseline(
        dataset, split.train, split.test, n_estimators=100
    )
    y = dataset.y[split.test]
    mean_rmse = float((dataset.y[split.train].mean() - y).pow(2).mean().sqrt())
    assert out["n"] == len(split.test)
    assert out["rmse"] < 0.7 * mean_rmse
