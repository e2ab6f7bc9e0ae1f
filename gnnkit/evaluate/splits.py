"""Seeded splits of graphs or nodes: stratified k-fold, inner validation
splits, random splits and k-labels-per-class splits (scikit-learn based).
Every split returns ``torch.long`` index tensors that are disjoint."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import torch
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from torch import Tensor

ArrayLike = Any


def stratified_kfold(
    y: ArrayLike, folds: int = 10, seed: int = 0
) -> list[tuple[Tensor, Tensor]]:
    """Shuffled k-fold split that keeps class proportions in every fold.

    Regression targets (floats that are not whole numbers) get a plain
    shuffled k-fold split.

    Args:
        y (array): one target per example.
        folds (int): number of folds. (default: ``10``)
        seed (int): shuffling seed. (default: ``0``)

    Returns:
        list[tuple[Tensor, Tensor]]: ``(train_index, test_index)`` per
        fold; the test indices of all folds partition ``0..n-1``.

    Raises:
        TypeError: if ``folds`` is not an int.
        ValueError: if ``folds < 2``, there are fewer examples than folds,
            or a class has fewer examples than folds (a test fold would
            lack it).
    """
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)):
        raise TypeError(f"folds must be an int (got {folds!r}).")
    y = _labels(y)
    if folds < 2 or folds > len(y):
        raise ValueError(
            f"folds must be between 2 and the number of examples "
            f"({len(y)}) (got {folds})."
        )
    if np.issubdtype(y.dtype, np.integer):
        _check_class_sizes(y, folds)
    if _is_classes(y) and np.unique(y, return_counts=True)[1].max() >= folds:
        with warnings.catch_warnings():  # whole-number float targets
            warnings.filterwarnings("ignore", "The least populated class")
            splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
            parts = list(splitter.split(np.zeros(len(y)), y))
    else:
        splitter = KFold(folds, shuffle=True, random_state=seed)
        parts = list(splitter.split(np.zeros(len(y))))
    return [(_tensor(tr), _tensor(te)) for tr, te in parts]


def _check_class_sizes(y: np.ndarray, folds: int) -> None:
    """Every class label of ``y`` has at least ``folds`` examples, so each
    test fold holds one of each class (as ``gnnkit run`` checks)."""
    values, counts = np.unique(y, return_counts=True)
    label, smallest = int(values[counts.argmin()]), int(counts.min())
    if smallest >= folds:
        return
    fix = (f"use folds={smallest} or fewer" if smallest >= 2
           else "drop or merge that class's examples")
    raise ValueError(
        f"class index {label} has {smallest} example(s), fewer than folds="
        f"{folds}; each test fold needs one of each class: {fix}."
    )


def inner_validation_split(
    train_index: ArrayLike,
    y: ArrayLike,
    fraction: float = 0.1,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    """Hold out a stratified validation part of a training index.

    Args:
        train_index (array): indices (into ``y``) available for training.
        y (array): targets of the whole dataset.
        fraction (float): share held out for validation. (default: ``0.1``)
        seed (int): shuffling seed. (default: ``0``)

    Returns:
        tuple[Tensor, Tensor]: ``(inner_train_index, val_index)``, both
        subsets of ``train_index``. Stratified when every class has at
        least 2 members, plain random otherwise.
    """
    index = np.asarray(_labels(train_index), dtype=np.int64)
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1) (got {fraction}).")
    labels = _labels(y)[index]
    n_val = max(1, int(round(fraction * len(index))))
    stratify = None
    if _is_classes(labels):
        counts = np.unique(labels, return_counts=True)[1]
        if counts.min() >= 2 and n_val >= len(counts):
            stratify = labels
    train, val = train_test_split(index, test_size=n_val,
                                  random_state=seed, stratify=stratify)
    return _tensor(train), _tensor(val)


def random_split(
    n: int,
    fractions: Sequence[float] = (0.6, 0.2, 0.2),
    seed: int = 0,
    stratify: ArrayLike | None = None,
) -> tuple[Tensor, ...]:
    """Split ``0..n-1`` into parts of the given fractions.

    Args:
        n (int): number of examples.
        fractions (sequence of float): share of each part; must sum to 1.
            (default: ``(0.6, 0.2, 0.2)``)
        seed (int): shuffling seed. (default: ``0``)
        stratify (array, optional): class ids; when given, every class is
            split in the same proportions.

    Returns:
        tuple[Tensor, ...]: one sorted index tensor per fraction.
    """
    if any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"fractions must be >= 0 and sum to 1 (got {tuple(fractions)})."
        )
    rng = np.random.default_rng(seed)
    if stratify is None:
        groups = [rng.permutation(n)]
    else:
        labels = _labels(stratify)
        groups = [rng.permutation(np.flatnonzero(labels == c))
                  for c in np.unique(labels)]
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for group in groups:
        cuts = np.round(np.cumsum(fractions)[:-1] * len(group)).astype(int)
        for i, piece in enumerate(np.split(group, cuts)):
            parts[i].append(piece)
    return tuple(_tensor(np.sort(np.concatenate(p))) for p in parts)


def per_class_split(
    y: ArrayLike,
    k: int,
    seed: int = 0,
    val_size: int = 500,
    test_size: int | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """``k`` labelled training nodes per class, then validation and test.

    The Planetoid protocol (Kipf and Welling use ``k=20``, ``val_size=500``
    and ``test_size=1000``).

    Args:
        y (array): class id per node.
        k (int): training nodes per class.
        seed (int): sampling seed. (default: ``0``)
        val_size (int): validation nodes drawn from the rest.
            (default: ``500``)
        test_size (int, optional): test nodes drawn from what remains
            (default: all remaining nodes).

    Returns:
        tuple[Tensor, Tensor, Tensor]: ``(train, val, test)``, disjoint.

    Raises:
        ValueError: if a class has fewer than ``k`` nodes or too few nodes
            are left for ``val_size``/``test_size``.
    """
    labels = _labels(y).astype(np.int64)
    rng = np.random.default_rng(seed)
    train = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) < k:
            raise ValueError(
                f"class {c} has {len(members)} nodes, fewer than k={k}; "
                "lower k."
            )
        train.append(rng.choice(members, size=k, replace=False))
    train = np.concatenate(train)
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), train))
    test_size = len(rest) - val_size if test_size is None else test_size
    if val_size + test_size > len(rest) or test_size < 0:
        raise ValueError(
            f"only {len(rest)} nodes remain after the training nodes; "
            f"lower val_size ({val_size}) or test_size ({test_size})."
        )
    val, test = rest[:val_size], rest[val_size:val_size + test_size]
    return _tensor(np.sort(train)), _tensor(np.sort(val)), \
        _tensor(np.sort(test))


def _labels(y: ArrayLike) -> np.ndarray:
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    y = np.asarray(y)
    return y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y


def _is_classes(y: np.ndarray) -> bool:
    return y.size > 0 and (np.issubdtype(y.dtype, np.integer)
                           or bool(np.all(np.mod(y, 1) == 0)))


def _tensor(index: np.ndarray) -> Tensor:
    return torch.as_tensor(np.asarray(index), dtype=torch.long)
