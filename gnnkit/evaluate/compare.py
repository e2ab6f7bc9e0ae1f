"""Every way of joining a language model and a GNN, compared on one graph.

All modes (see :mod:`gnnkit.evaluate.modes`) share the splits of each
seed, pick their epoch on validation and touch the test nodes once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import torch

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError
from gnnkit.evaluate.metrics import classification_metrics
from gnnkit.evaluate.modes import (
    CompareSettings,
    FeatureStore,
    Mode,
    parse_mode,
    run_mode,
)
from gnnkit.evaluate.splits import per_class_split, random_split

DEFAULT_MODES = ("tfidf_gcn", "mlp_lm", "cascade_gcn", "joint_lora", "lm")
COLUMNS = ("mode", "accuracy_mean", "accuracy_std", "val_accuracy_mean",
           "macro_f1_mean", "train_seconds", "trainable_parameters")

Split = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@dataclass
class ComparisonResult:
    """What :func:`compare` returns.

    Attributes:
        dataset (str): dataset name.
        split (str): ``"60/20/20"`` or ``"<k> per class"``.
        seeds (list[int]): the seeds (one split per seed).
        runs (list[dict]): one record per mode and seed: ``mode``,
            ``seed``, ``accuracy``, ``macro_f1``, ``val_accuracy``,
            ``train_seconds``, ``trainable_parameters``, ``best_epoch``.
        rows (list[dict]): one row per mode: ``mode``, ``accuracy_mean``,
            ``accuracy_std``, ``val_accuracy_mean`` (the score each run
            was selected on), ``macro_f1_mean``, ``train_seconds`` (mean
            per run), ``trainable_parameters`` and ``runs``.
        settings (dict): the settings used.
    """

    dataset: str
    split: str
    seeds: list[int]
    runs: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    def best(self, by: str = "val_accuracy_mean") -> dict[str, Any]:
        """The row with the highest mean validation accuracy.

        Choosing a mode on validation keeps its test accuracy an honest
        estimate; rows without a validation score count as lowest.

        Args:
            by (str): the row column to maximise; ``"accuracy_mean"``
                picks on test accuracy, which flatters the winner.
                (default: ``"val_accuracy_mean"``)
        """
        def score(row: dict[str, Any]) -> float:
            value = row.get(by)
            return float("-inf") if value is None else value

        return max(self.rows, key=score)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy."""
        return dataclasses.asdict(self)

    def format_table(self) -> str:
        """The rows as an aligned text table (test accuracy mean ± std,
        or the one value for one seed; mean validation accuracy,
        macro-F1, seconds, parameters)."""
        width = max([16] + [len(row["mode"]) for row in self.rows])
        lines = [f"{self.dataset}, split {self.split}, "
                 f"{len(self.seeds)} seed(s)",
                 f"{'mode':<{width}} {'test accuracy':>15} {'val acc':>8} "
                 f"{'macro-F1':>9} {'train s':>9} {'trainable':>11}"]
        for row in self.rows:
            val = row.get("val_accuracy_mean")
            val = "-" if val is None else f"{val:.4f}"
            acc = f"{row['accuracy_mean']:.4f}"
            if len(self.seeds) > 1:
                acc += f" ± {row['accuracy_std']:.4f}"
            lines.append(
                f"{row['mode']:<{width}} {acc:>15} {val:>8} "
                f"{row['macro_f1_mean']:9.4f} "
                f"{row['train_seconds']:9.1f} "
                f"{row['trainable_parameters']:11,d}")
        return "\n".join(lines)


def make_splits(
    y: torch.Tensor, seeds: Sequence[int], split: str = "60/20/20",
    k: int = 20, val_size: int = 500,
) -> list[Split]:
    """One ``(train, val, test)`` split of the nodes per seed.

    Args:
        y (Tensor): class ids ``[num_nodes]``.
        seeds (sequence of int): one split per seed.
        split (str): ``"a/b/c"`` percentages (stratified random split) or
            ``"k_per_class"`` (``k`` training nodes per class,
            ``val_size`` validation nodes, at most half of the rest, and
            the rest for test).
        k (int): labelled nodes per class. (default: ``20``)
        val_size (int): validation nodes of ``"k_per_class"``.

    Raises:
        ValueError: for an unknown split.
    """
    if split == "k_per_class":
        rest = len(y) - k * int(y.unique().numel())
        val_size = min(val_size, rest // 2)
        return [per_class_split(y, k, seed, val_size=val_size)
                for seed in seeds]
    parts = split.split("/")
    try:
        fractions = [float(p) / 100 for p in parts]
    except ValueError:
        fractions = []
    if len(fractions) != 3:
        raise ValueError(
            f"split must be 'train/val/test' percentages such as "
            f"'60/20/20' or 'k_per_class' (got {split!r})."
        )
    return [random_split(len(y), fractions, seed, stratify=y)
            for seed in seeds]


def compare(
    dataset: GraphDataset,
    modes: Sequence[str] = DEFAULT_MODES,
    *,
    seeds: int | Sequence[int] = 5,
    split: str = "60/20/20",
    k: int = 20,
    settings: CompareSettings | None = None,
    on_run: Callable[[dict[str, Any]], Any] | None = None,
) -> ComparisonResult:
    """Train and test every mode on the same splits of ``dataset``.

    Each run selects its epoch on the validation nodes (early stopping)
    and is evaluated once on the test nodes. LM embeddings and TF-IDF
    features are computed once (embeddings through the on-disk cache).

    Args:
        dataset (GraphDataset): a node-level classification dataset with
            node texts (e.g. ``load_dataset("Cora_TAG")``).
        modes (sequence of str): modes to run, see :func:`parse_mode`.
        seeds (int or sequence of int): number of seeds (``0..n-1``) or
            the seeds. (default: ``5``)
        split (str): ``"60/20/20"`` (or other percentages) or
            ``"k_per_class"``. (default: ``"60/20/20"``)
        k (int): labelled nodes per class for ``"k_per_class"``.
        settings (CompareSettings, optional): model and training settings.
        on_run (callable, optional): called with each run's record.

    Returns:
        ComparisonResult: per-run records and one row per mode.

    Raises:
        DataError: if the dataset is not a node classification dataset
            with texts.
        ValueError: for an unknown mode or split.

    Example:
        >>> result = compare(load_dataset("Cora_TAG"),
        ...                  ["tfidf_gcn", "cascade_gcn"], seeds=3)
        >>> print(result.format_table())
    """
    parsed = [parse_mode(m) for m in modes]
    _check_dataset(dataset, any(m.needs_text for m in parsed))
    settings = settings or CompareSettings()
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    y = dataset.y.view(-1).long()
    splits = make_splits(y, seeds, split, k)
    label = f"{k} per class" if split == "k_per_class" else split
    result = ComparisonResult(dataset.name, label, seeds,
                              settings=settings.to_dict())
    features = FeatureStore(dataset, settings)
    for seed, part in zip(seeds, splits):
        memo: dict[str, Any] = {}  # ensembles reuse their members' runs
        for mode in parsed:
            record = _run(mode, dataset, features, part, seed, settings,
                          memo)
            result.runs.append(record)
            if on_run is not None:
                on_run(record)
    result.rows = [_row(m.name, result.runs) for m in parsed]
    return result


def _run(mode: Mode, dataset: GraphDataset, features: Any, part: Split,
         seed: int, settings: Any, memo: dict[str, Any]) -> dict[str, Any]:
    train, val, test = part
    out = run_mode(mode, dataset, features, part, seed, settings, memo)
    y = dataset.y.view(-1).long()
    scores = classification_metrics(
        y[test], out.test_logits, num_classes=dataset.num_classes)
    return {
        "mode": mode.name, "seed": seed,
        "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"],
        "val_accuracy": out.val_accuracy(y[val]),
        "best_epoch": out.fit.best_epoch,
        "train_seconds": out.fit.train_seconds,
        "trainable_parameters": out.trainable_parameters,
    }


def _row(mode: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    mine = [r for r in runs if r["mode"] == mode]
    acc = np.array([r["accuracy"] for r in mine])
    val = [r["val_accuracy"] for r in mine]
    return {
        "mode": mode,
        "accuracy_mean": float(acc.mean()),
        "accuracy_std": float(acc.std()),
        "val_accuracy_mean": None if None in val else float(np.mean(val)),
        "macro_f1_mean": float(np.mean([r["macro_f1"] for r in mine])),
        "train_seconds": float(np.mean([r["train_seconds"] for r in mine])),
        "trainable_parameters": int(mine[0]["trainable_parameters"]),
        "runs": len(mine),
    }


def compare_label_rates(
    dataset: GraphDataset,
    modes: Sequence[str] = DEFAULT_MODES,
    *,
    ks: Sequence[int] = (1, 5, 20),
    full_split: str | None = "60/20/20",
    **kwargs: Any,
) -> list[ComparisonResult]:
    """:func:`compare` with ``k`` labelled nodes per class, for each ``k``.

    The full split runs beside them, to show where the LM helps when
    labels are few.

    Args:
        dataset (GraphDataset): the dataset.
        modes (sequence of str): the modes.
        ks (sequence of int): labelled nodes per class.
            (default: ``(1, 5, 20)``)
        full_split (str, optional): a percentage split run too
            (default: ``"60/20/20"``; ``None`` to skip).
        **kwargs: ``seeds``, ``settings``, ``on_run`` of :func:`compare`.

    Returns:
        list[ComparisonResult]: one per split, ``ks`` first.
    """
    results = [compare(dataset, modes, split="k_per_class", k=k, **kwargs)
               for k in ks]
    if full_split is not None:
        results.append(compare(dataset, modes, split=full_split, **kwargs))
    return results


def combined_rows(results: Sequence[ComparisonResult]) -> list[dict]:
    """The rows of several comparisons as one table with a split column."""
    return [{"split": r.split, **row} for r in results for row in r.rows]


def _check_dataset(dataset: GraphDataset, needs_text: bool) -> None:
    if dataset.level != "node" or dataset.classes is None:
        raise DataError(
            f"Dataset '{dataset.name}' is not a node classification "
            f"dataset (level={dataset.level!r}, task={dataset.task!r}); "
            "compare() needs one graph with a class label per node."
        )
    if needs_text and dataset.texts is None:
        raise DataError(
            f"Dataset '{dataset.name}' has no node texts; load it with a "
            "text column (read_csv_graph(..., text='text')).",
            field="text",
        )
