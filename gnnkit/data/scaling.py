"""Standardise numeric node-feature columns read from tables.

A column such as ``year`` (1990-2020) next to columns near 0 dominates a
model's first layer and can make it predict one class. Tables are
therefore read with every numeric feature column z-scored (mean 0, std 1
over the nodes of the file). Indicator columns (only 0 and 1, e.g. one-hot
columns) are kept as they are, and a constant column becomes 0. The means
and stds travel with the dataset (``meta["feature_scaling"]``) and with a
saved model, so new files are scaled with the training statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from gnnkit.errors import DataError


@dataclass
class FeatureScaling:
    """Per-column mean and std: ``scaled = (x - mean) / std``.

    Attributes:
        columns (list[str]): feature names, in column order.
        mean (list[float]): mean of each column (``0`` for a column left
            unscaled).
        std (list[float]): std of each column (``1`` for a column left
            unscaled or constant).
    """

    columns: list[str]
    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, values: np.ndarray, columns: Sequence[str]
            ) -> "FeatureScaling":
        """Statistics of ``values`` ``[N, F]``; 0/1 columns stay as is."""
        values = np.asarray(values, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):  # checked below
            mean = (values.mean(axis=0) if len(values)
                    else np.zeros(len(columns)))
            std = values.std(axis=0) if len(values) else np.ones(len(columns))
        for j in range(values.shape[1]):
            if _indicator(values[:, j]):
                mean[j], std[j] = 0.0, 1.0
        std[std == 0] = 1.0  # a constant column becomes 0
        _check_finite(mean, std, columns)
        return cls(list(columns), mean.tolist(), std.tolist())

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "FeatureScaling":
        """Read what :meth:`to_dict` wrote."""
        try:
            return cls(list(record["columns"]), list(record["mean"]),
                       list(record["std"]))
        except (KeyError, TypeError) as error:
            raise DataError(
                f"feature scaling record is incomplete ({error}); it needs "
                "'columns', 'mean' and 'std'.", field="feature_scaling",
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        return {"columns": list(self.columns), "mean": list(self.mean),
                "std": list(self.std)}

    def transform(self, x: torch.Tensor, names: Sequence[str]
                  ) -> torch.Tensor:
        """Scale the columns of ``x`` whose names this scaling knows."""
        return self._apply(x, names, inverse=False)

    def inverse(self, x: torch.Tensor, names: Sequence[str]) -> torch.Tensor:
        """Undo :meth:`transform` on the columns this scaling knows."""
        return self._apply(x, names, inverse=True)

    def _apply(self, x, names, inverse):
        mean, std = self._vectors(names, x)
        return x * std + mean if inverse else (x - mean) / std

    def _vectors(self, names, x):
        stats = {c: (m, s) for c, m, s in zip(self.columns, self.mean,
                                               self.std)}
        pairs = [stats.get(n, (0.0, 1.0)) for n in names]
        mean = torch.tensor([m for m, _ in pairs], dtype=x.dtype)
        std = torch.tensor([s for _, s in pairs], dtype=x.dtype)
        return mean, std


def scale_columns(values: np.ndarray, columns: Sequence[str]
                  ) -> tuple[np.ndarray, FeatureScaling]:
    """Z-score the columns of ``values`` ``[N, F]``.

    Returns:
        tuple: the scaled values and the :class:`FeatureScaling` used.
    """
    scaling = FeatureScaling.fit(values, columns)
    mean = np.asarray(scaling.mean)
    std = np.asarray(scaling.std)
    return (np.asarray(values, dtype=np.float64) - mean) / std, scaling


def _indicator(column: np.ndarray) -> bool:
    """True for a column of 0s and 1s, both present (a one-hot or flag)."""
    return bool(np.isin(column, (0.0, 1.0)).all()) and len(
        np.unique(column)) == 2


def _check_finite(mean: np.ndarray, std: np.ndarray,
                  columns: Sequence[str]) -> None:
    """A DataError naming a column whose mean or std is not finite."""
    bad = ~(np.isfinite(mean) & np.isfinite(std))
    if bad.any():
        column = list(columns)[int(np.argmax(bad))]
        raise DataError(
            "the column's mean or std is not a finite number (a missing, "
            "infinite or too large value); features must be finite and at "
            "most about 3.4e38 in size.", field=str(column),
        )
