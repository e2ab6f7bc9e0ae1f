import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnkit.evaluate.metrics import (
    classification_metrics,
    pooled_roc_auc,
    regression_metrics,
    summarize_folds,
)

C18 = Path(__file__).parents[1] / "cases" / "C18" / "folds.json"


def c18_folds():
    return json.loads(C18.read_text())["folds"]


def test_classification_metrics_c18_per_fold():
    metrics = [classification_metrics(f["y_true"], f["y_score"])
               for f in c18_folds()]
    auc = [m["roc_auc"] for m in metrics]
    assert auc[:2] == pytest.approx([0.888889, 0.75], abs=1e-6)
    assert auc[2] is None
    assert metrics[2]["roc_auc_reason"] == \
        "only class 0 present in the test fold"
    assert [m["accuracy"] for m in metrics] == pytest.approx(
        [0.833333, 0.75, 0.666667], abs=1e-6)


def test_summarize_folds_c18_means_over_defined_folds():
    summary = summarize_folds([classification_metrics(f["y_true"],
                                                      f["y_score"])
                               for f in c18_folds()])
    auc = summary["roc_auc"]
    assert auc["mean"] == pytest.approx(0.819444, abs=1e-6)
    assert (auc["n_defined"], auc["n_folds"]) == (2, 3)
    assert auc["reasons"][2] == "only class 0 present in the test fold"
    assert summary["accuracy"]["mean"] == pytest.approx(0.75)
    assert summary["accuracy"]["n_defined"] == 3
    assert "confusion_matrix" not in summary


def test_pooled_roc_auc_c18():
    folds = c18_folds()
    pooled = pooled_roc_auc([f["y_true"] for f in folds],
                            [f["y_score"] for f in folds])
    assert pooled == pytest.approx(0.875)


def test_classification_metrics_from_logits():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0],
                           [0.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    m = classification_metrics(torch.tensor([0, 1, 2, 2]), logits)
    assert m["accuracy"] == 0.75
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    # classes 0 and 1 rank perfectly; for class 2, row 3 ties row 0
    # (both softmax([0, 2, 0])-like: p2 = 1 / (e^2 + 2)): 3.5 of 4 pairs
    assert m["roc_auc"] == pytest.approx((1 + 1 + 3.5 / 4) / 3)


def test_classification_metrics_multiclass_absent_class():
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1]])
    m = classification_metrics([0, 1], probs, num_classes=3)
    assert m["roc_auc"] is None
    assert m["roc_auc_reason"] == "class 2 absent from the test fold"
    assert m["accuracy"] == 1.0


def test_classification_metrics_only_positives():
    m = classification_metrics([1, 1], [0.9, 0.2])
    assert m["roc_auc"] is None
    assert m["roc_auc_reason"] == "only class 1 present in the test fold"


def test_classification_metrics_length_mismatch():
    with pytest.raises(ValueError, match="y_true has 3 entries but scores "
                       "has 2 rows"):
        classification_metrics([0, 1, 1], [0.1, 0.2])


def test_regression_metrics_exact():
    m = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert m["rmse"] == pytest.approx(np.sqrt(4 / 3))
    assert m["mae"] == pytest.approx(2 / 3)
    assert m["r2"] == pytest.approx(1 - 4 / 2)


def test_regression_metrics_constant_targets_r2_undefined():
    m = regression_metrics([2.0, 2.0], [1.0, 3.0])
    assert m["r2"] is None and "2 different targets" in m["r2_reason"]
    assert m["rmse"] == pytest.approx(1.0)


def test_summarize_folds_nan_counts_as_undefined():
    summary = summarize_folds([{"rmse": 1.0}, {"rmse": float("nan")},
                               {"rmse": 3.0}])
    assert summary["rmse"]["mean"] == 2.0
    assert summary["rmse"]["std"] == 1.0
    assert summary["rmse"]["values"] == [1.0, None, 3.0]
