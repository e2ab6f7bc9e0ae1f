import numpy as np
import pytest
import torch

from gnnkit.evaluate.splits import (
    inner_validation_split,
    per_class_split,
    random_split,
    stratified_kfold,
)

Y = torch.tensor([0] * 30 + [1] * 20)


def test_stratified_kfold_partitions_and_stratifies():
    folds = stratified_kfold(Y, folds=5, seed=0)
    assert len(folds) == 5
    tests = torch.cat([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(50))
    for train, test in folds:
        assert set(train.tolist()).isdisjoint(test.tolist())
        assert len(train) + len(test) == 50
        assert torch.bincount(Y[test]).tolist() == [6, 4]


def test_stratified_kfold_seeded():
    a = stratified_kfold(Y, folds=5, seed=1)
    b = stratified_kfold(Y, folds=5, seed=1)
    c = stratified_kfold(Y, folds=5, seed=2)
    assert all(torch.equal(x[1], y[1]) for x, y in zip(a, b))
    assert not all(torch.equal(x[1], y[1]) for x, y in zip(a, c))


def test_stratified_kfold_regression_targets():
    folds = stratified_kfold(np.linspace(0, 1, 20), folds=4)
    assert sorted(torch.cat([te for _, te in folds]).tolist()) == \
        list(range(20))


def test_stratified_kfold_too_many_folds():
    with pytest.raises(ValueError, match=r"folds must be between 2 and "
                       r"the number of examples \(3\) \(got 5\)"):
        stratified_kfold([0, 1, 0], folds=5)


def test_stratified_kfold_refuses_more_folds_than_a_class_has():
    y = torch.tensor([0] * 30 + [1] * 3)
    with pytest.raises(ValueError, match=r"class index 1 has 3 example\(s\),"
                       " fewer than folds=4.*use folds=3 or fewer"):
        stratified_kfold(y, folds=4)
    assert len(stratified_kfold(y, folds=3)) == 3


def test_stratified_kfold_single_example_class_cannot_be_split():
    with pytest.raises(ValueError, match="class index 1 has 1 example.*drop "
                       "or merge"):
        stratified_kfold(torch.tensor([0, 0, 0, 1]), folds=2)


@pytest.mark.parametrize("folds", ["3", 3.0, True])
def test_stratified_kfold_folds_must_be_an_int(folds):
    with pytest.raises(TypeError, match=f"folds must be an int \\(got "
                       f"{folds!r}\\)"):
        stratified_kfold(Y, folds=folds)


def test_inner_validation_split_subset_and_stratified():
    train_index = torch.arange(10, 50)  # labels: 20 zeros, 20 ones
    inner, val = inner_validation_split(train_index, Y, fraction=0.1)
    assert len(val) == 4 and len(inner) == 36
    assert set(inner.tolist()) | set(val.tolist()) == set(range(10, 50))
    assert set(inner.tolist()).isdisjoint(val.tolist())
    assert torch.bincount(Y[val]).tolist() == [2, 2]


def test_random_split_fractions_and_stratify():
    train, val, test = random_split(50, (0.6, 0.2, 0.2), seed=0,
                                    stratify=Y)
    assert (len(train), len(val), len(test)) == (30, 10, 10)
    assert torch.bincount(Y[test]).tolist() == [6, 4]
    everything = torch.cat([train, val, test]).tolist()
    assert sorted(everything) == list(range(50))


def test_random_split_bad_fractions():
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(10, (0.5, 0.2))


def test_per_class_split_k_per_class():
    y = torch.tensor([0] * 40 + [1] * 30 + [2] * 30)
    train, val, test = per_class_split(y, k=5, seed=0, val_size=20,
                                       test_size=50)
    assert torch.bincount(y[train]).tolist() == [5, 5, 5]
    assert (len(val), len(test)) == (20, 50)
    parts = [set(p.tolist()) for p in (train, val, test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2]
                or parts[1] & parts[2])


def test_per_class_split_rest_is_test():
    y = torch.tensor([0] * 10 + [1] * 10)
    train, val, test = per_class_split(y, k=2, val_size=6)
    assert len(test) == 20 - 4 - 6


@pytest.mark.parametrize("kwargs, match", [
    (dict(k=11, val_size=1), "class 0 has 10 nodes, fewer than k=11"),
    (dict(k=2, val_size=17), "only 16 nodes remain"),
])
def test_per_class_split_errors(kwargs, match):
    y = torch.tensor([0] * 10 + [1] * 10)
    with pytest.raises(ValueError, match=match):
        per_class_split(y, **kwargs)
