"""Classification and regression metrics as plain dicts (scikit-learn
underneath), with undefined values reported as ``None`` plus a reason, and
fold summaries that average only over the folds where a metric exists."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
)

ArrayLike = Any  # Tensor, numpy array or nested list


def classification_metrics(
    y_true: ArrayLike,
    scores: ArrayLike,
    *,
    num_classes: int | None = None,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """Accuracy, macro F1, ROC-AUC and the confusion matrix.

    Args:
        y_true (array): class ids ``[n]``.
        scores (array): ``[n, C]`` logits or probabilities (logits are
            turned into probabilities with a softmax), or ``[n]``
            positive-class probabilities of a binary task.
        num_classes (int, optional): number of classes (default: from
            ``scores``, at least 2).
        threshold (float): decision threshold for ``[n]`` scores.
            (default: ``0.5``)

    Returns:
        dict: ``n``, ``accuracy``, ``macro_f1``, ``roc_auc`` (binary: on
        the positive-class score; multi-class: one-vs-rest macro average),
        ``roc_auc_reason`` (``None``, or why ROC-AUC is undefined, e.g.
        ``"only class 0 present in the test fold"``) and
        ``confusion_matrix`` (rows: true class, columns: predicted).

    Example:
        >>> classification_metrics([0, 1, 1], [0.2, 0.9, 0.4])["accuracy"]
        0.6666666666666666
    """
    y = _numpy(y_true).astype(np.int64).reshape(-1)
    probs = _probabilities(_numpy(scores).astype(np.float64))
    num_classes = num_classes or max(2, probs.shape[1])
    _check_shapes(y, probs, num_classes)
    if probs.shape[1] == 1:
        pred = (probs[:, 0] >= threshold).astype(np.int64)
        probs = np.column_stack([1.0 - probs[:, 0], probs[:, 0]])
    else:
        pred = probs.argmax(1)
    auc, reason = _roc_auc(y, probs, num_classes)
    labels = list(range(num_classes))
    return {
        "n": int(y.size),
        "accuracy": float((pred == y).mean()) if y.size else None,
        "macro_f1": float(f1_score(y, pred, average="macro",
                                   zero_division=0)) if y.size else None,
        "roc_auc": auc,
        "roc_auc_reason": reason,
        "confusion_matrix": confusion_matrix(
            y, pred, labels=labels).tolist(),
    }


def regression_metrics(
    y_true: ArrayLike, y_pred: ArrayLike
) -> dict[str, Any]:
    """Root mean squared error, mean absolute error and R².

    Args:
        y_true (array): targets ``[n]`` or ``[n, T]``.
        y_pred (array): predictions of the same shape, original units.

    Returns:
        dict: ``n``, ``rmse``, ``mae``, ``r2`` (``None`` with
        ``r2_reason`` when fewer than 2 targets or all targets are equal).
    """
    y = _numpy(y_true).astype(np.float64)
    p = _numpy(y_pred).astype(np.float64).reshape(y.shape)
    r2, reason = None, None
    if y.shape[0] < 2 or np.allclose(y, y[:1]):
        reason = "R² needs at least 2 different targets in the test fold"
    else:
        r2 = float(r2_score(y, p))
    return {
        "n": int(y.shape[0]),
        "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
        "mae": float(mean_absolute_error(y, p)),
        "r2": r2,
        "r2_reason": reason,
    }


def pooled_roc_auc(
    y_true_folds: Sequence[ArrayLike], score_folds: Sequence[ArrayLike]
) -> float | None:
    """ROC-AUC over the predictions of all folds pooled together.

    Args:
        y_true_folds (list of arrays): true class ids per fold.
        score_folds (list of arrays): scores per fold, as accepted by
            :func:`classification_metrics`.

    Returns:
        float or None: ``None`` if the pooled labels hold a single class.
    """
    y = np.concatenate([_numpy(t).reshape(-1) for t in y_true_folds])
    parts = [_probabilities(_numpy(s).astype(np.float64))
             for s in score_folds]
    return classification_metrics(y, np.concatenate(parts))["roc_auc"]


def summarize_folds(fold_metrics: Sequence[dict[str, Any]]) -> dict:
    """Mean and standard deviation of each scalar metric over folds.

    A metric that is ``None`` (or NaN) on a fold is left out of its mean,
    and ``n_defined`` says over how many folds the mean was taken.

    Args:
        fold_metrics (list[dict]): one metrics dict per fold.

    Returns:
        dict: per metric ``{"mean", "std", "n_defined", "n_folds",
        "values"}`` (``std`` is the population standard deviation; mean
        and std are ``None`` when no fold defines the metric), plus
        ``"reasons"`` (per fold) where a ``<metric>_reason`` exists.
    """
    keys = [k for k in _ordered_keys(fold_metrics)
            if all(_is_scalar(m.get(k)) for m in fold_metrics)]
    summary = {}
    for key in keys:
        values = [_clean(m.get(key)) for m in fold_metrics]
        defined = [v for v in values if v is not None]
        summary[key] = {
            "mean": float(np.mean(defined)) if defined else None,
            "std": float(np.std(defined)) if defined else None,
            "n_defined": len(defined),
            "n_folds": len(values),
            "values": values,
        }
        reasons = [m.get(f"{key}_reason") for m in fold_metrics]
        if any(reasons):
            summary[key]["reasons"] = reasons
    return summary


def _roc_auc(
    y: np.ndarray, probs: np.ndarray, num_classes: int
) -> tuple[float | None, str | None]:
    present = sorted(set(y.tolist()))
    if len(present) < 2:
        which = f"class {present[0]}" if present else "no class"
        return None, f"only {which} present in the test fold"
    if num_classes == 2:
        return float(roc_auc_score(y, probs[:, 1])), None
    missing = [c for c in range(num_classes) if c not in present]
    if missing:
        names = ", ".join(str(c) for c in missing)
        return None, f"class {names} absent from the test fold"
    probs = probs / probs.sum(1, keepdims=True)
    return float(roc_auc_score(y, probs, multi_class="ovr",
                               average="macro",
                               labels=list(range(num_classes)))), None


def _probabilities(scores: np.ndarray) -> np.ndarray:
    """``[n, C]`` probabilities from logits or probabilities."""
    if scores.ndim == 1:
        return scores.reshape(-1, 1)
    is_prob = (scores.size == 0 or (scores.min() >= 0 and np.allclose(
        scores.sum(1), 1.0, atol=1e-4)))
    if is_prob or scores.shape[1] == 1:
        return scores
    shifted = np.exp(scores - scores.max(1, keepdims=True))
    return shifted / shifted.sum(1, keepdims=True)


def _check_shapes(y: np.ndarray, probs: np.ndarray, num_classes: int):
    if probs.shape[0] != y.shape[0]:
        raise ValueError(
            f"y_true has {y.shape[0]} entries but scores has "
            f"{probs.shape[0]} rows; give one score row per example."
        )
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"y_true holds class ids outside 0..{num_classes - 1} "
            f"(got {sorted(set(y.tolist()))})."
        )


def _numpy(values: ArrayLike) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _ordered_keys(fold_metrics: Sequence[dict[str, Any]]) -> list[str]:
    keys: dict[str, None] = {}
    for metrics in fold_metrics:
        keys.update(dict.fromkeys(metrics))
    return [k for k in keys if not k.endswith("_reason")]


def _is_scalar(value: Any) -> bool:
    return value is None or (isinstance(value, (int, float, np.number))
                             and not isinstance(value, bool))


def _clean(value: Any) -> float | None:
    if value is None or math.isnan(float(value)):
        return None
    return float(value)
