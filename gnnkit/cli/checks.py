"""Checks the CLI makes before any training starts, so a bad option or an
unwritable output folder fails in a second, not after the whole run."""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import GnnkitError

#: Smallest (and largest) value of each numeric option, by argparse
#: ``dest``; every sub-command is checked against the options it has.
NUMBER_LIMITS = {
    "epochs": (1, None), "hidden": (1, None), "layers": (1, None),
    "folds": (2, None), "repeats": (1, None), "threads": (1, None),
    "seeds": (1, None), "labels_per_class": (1, None), "top_k": (1, None),
    "max_length": (1, None), "joint_max_length": (1, None),
    "joint_epochs": (1, None), "rwse": (0, None), "seed": (0, 2**32 - 1),
}


def check_numbers(args: argparse.Namespace) -> None:
    """Every numeric option given lies within :data:`NUMBER_LIMITS`.

    Raises:
        GnnkitError: naming the first option out of range, e.g.
            ``--seeds must be at least 1 (got 0).``
    """
    for dest, (low, high) in NUMBER_LIMITS.items():
        values = getattr(args, dest, None)
        for value in values if isinstance(values, list) else [values]:
            if value is None or low <= value and (high is None
                                                  or value <= high):
                continue
            flag = "--" + dest.replace("_", "-")
            if high is None:
                raise GnnkitError(
                    f"{flag} must be at least {low} (got {value})."
                )
            raise GnnkitError(
                f"{flag} must be between {low} and {high} (got {value})."
            )


def check_output_dir(out: Path) -> None:
    """``out`` is (or can become) a folder this process may write into."""
    if out.exists() and not out.is_dir():
        raise GnnkitError(
            f"--out {out} is an existing file; give a folder name instead."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise GnnkitError(
            f"--out {out} cannot be written ({error.strerror}); choose a "
            "folder you may write to."
        ) from error


def check_output_file(path: Path) -> None:
    """``path`` names a file (not a folder) in a writable folder."""
    if path.is_dir():
        raise GnnkitError(
            f"--out {path} is a folder; give a file name such as "
            f"{path / 'predictions.csv'}."
        )
    check_output_dir(path.parent if str(path.parent) else Path("."))


def check_cv_fits(dataset: GraphDataset, folds: int) -> None:
    """``dataset`` has enough graphs (or nodes) of each class for ``folds``
    folds with inner validation (``--folds`` itself is checked by
    :func:`check_numbers`)."""
    what = "nodes" if dataset.level == "node" else "graphs"
    if dataset.task == "regression":
        count = int(dataset.y.numel())
        if count < 2 * folds:
            raise GnnkitError(
                f"dataset '{dataset.name}' has {count} {what}, too few for "
                f"{folds}-fold CV with inner validation (needs "
                f"{2 * folds}); lower --folds."
            )
        return
    _check_classes(dataset, folds, what)


def _check_classes(dataset: GraphDataset, folds: int, what: str) -> None:
    counts = Counter(int(c) for c in dataset.y.view(-1).tolist() if c >= 0)
    if len(counts) < 2:
        only = dataset.classes[next(iter(counts))] if counts else None
        raise GnnkitError(
            f"dataset '{dataset.name}' has a single class ({only!r}); a "
            f"classifier needs {what} of at least 2 classes."
        )
    label, smallest = min(counts.items(), key=lambda item: item[1])
    if smallest < 2:
        raise GnnkitError(
            f"class {dataset.classes[label]!r} of dataset '{dataset.name}' "
            f"has a single {what[:-1]}, and each of at least 2 folds needs "
            f"one of each class ({len(counts)} classes in "
            f"{sum(counts.values())} {what}: is the label column right?); "
            f"drop or merge that class's {what[:-1]}."
        )
    if smallest < folds:
        raise GnnkitError(
            f"class {dataset.classes[label]!r} of dataset '{dataset.name}' "
            f"has {smallest} {what[:-1]}(s), fewer than --folds {folds}; "
            "each test fold needs one of each class: use --folds "
            f"{smallest} or fewer."
        )
