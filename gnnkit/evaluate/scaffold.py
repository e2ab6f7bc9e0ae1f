"""Scaffold and random splits for molecules.

Molecules are grouped by their Bemis-Murcko scaffold (RDKit's
``MurckoScaffold``) and whole groups go to train, validation or test, as in
MoleculeNet/DeepChem; a seeded variant shuffles the groups (chemprop's
"balanced" scaffold split).
"""

from __future__ import annotations

import random
from typing import NamedTuple, Sequence

import torch
from rdkit.Chem.Scaffolds import MurckoScaffold

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.molecules import parse_smiles
from gnnkit.errors import DataError
from gnnkit.evaluate import splits


class SplitIndex(NamedTuple):
    """Indices of the train, validation and test items."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor


def murcko_scaffold(smiles: str, include_chirality: bool = False) -> str:
    """The Bemis-Murcko scaffold of ``smiles`` as a canonical SMILES.

    Acyclic molecules have the empty scaffold ``""``.

    Raises:
        DataError: RDKit cannot read ``smiles``.
    """
    mol, reason = parse_smiles(smiles)
    if mol is None:
        raise DataError(
            f"cannot compute the scaffold of {smiles!r}: {reason}.",
            field="smiles",
        )
    return MurckoScaffold.MurckoScaffoldSmiles(
        mol=mol, includeChirality=include_chirality
    )


def scaffold_groups(smiles: Sequence[str]) -> dict[str, list[int]]:
    """Map each scaffold to the indices of the molecules that have it."""
    groups: dict[str, list[int]] = {}
    for index, text in enumerate(smiles):
        groups.setdefault(murcko_scaffold(text), []).append(index)
    return groups


def _smiles_of(data: Sequence[str] | GraphDataset) -> Sequence[str]:
    """The SMILES of a molecule dataset (its graph texts) or the list."""
    if isinstance(data, GraphDataset):
        if data.graph_texts is None:
            raise DataError(
                f"dataset '{data.name}' has no graph_texts (SMILES); read "
                "it with gnnkit.data.smiles_csv.read_smiles_csv."
            )
        return data.graph_texts
    return data


def _sizes(total: int, frac: Sequence[float]) -> tuple[int, int]:
    """Train and train+validation cut-offs for ``total`` items."""
    if len(frac) != 3 or min(frac) < 0 or abs(sum(frac) - 1.0) > 1e-6:
        raise ValueError(
            "frac must be three non-negative fractions (train, val, test) "
            f"summing to 1 (got {tuple(frac)})."
        )
    return round(frac[0] * total), round((frac[0] + frac[1]) * total)


def _ordered_groups(
    groups: list[list[int]], seed: int | None, test_size: int
) -> list[list[int]]:
    """Scaffold sets in the order they are handed out."""
    if seed is None:  # DeepChem: by (size, first index), largest first
        return sorted(groups, key=lambda g: (len(g), g[0]), reverse=True)
    rng = random.Random(seed)
    big = [g for g in groups if len(g) > test_size / 2]
    small = [g for g in groups if len(g) <= test_size / 2]
    rng.shuffle(big)
    rng.shuffle(small)
    return big + small


def scaffold_split(
    data: Sequence[str] | GraphDataset,
    frac: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int | None = None,
) -> SplitIndex:
    """Split molecules so that no scaffold falls in two parts.

    With ``seed=None`` the scaffold sets are handed out largest first
    (DeepChem/MoleculeNet's deterministic split). With a seed, sets
    bigger than half the test size go first in random order and the rest
    follow shuffled (chemprop's balanced scaffold split), so different
    seeds give different, still scaffold-disjoint splits.

    Args:
        data (list[str] or GraphDataset): SMILES strings, or a dataset
            whose ``graph_texts`` are SMILES.
        frac (tuple, optional): train, validation and test fractions
            (default: ``(0.8, 0.1, 0.1)``).
        seed (int, optional): shuffles the scaffold sets (default:
            ``None``, deterministic).

    Returns:
        SplitIndex: ``train``, ``val`` and ``test`` index tensors.

    Example:
        >>> split = scaffold_split(["c1ccccc1O", "c1ccccc1N", "CCO"],
        ...                        frac=(0.34, 0.33, 0.33))
    """
    smiles = _smiles_of(data)
    train_cut, val_cut = _sizes(len(smiles), frac)
    groups = list(scaffold_groups(smiles).values())
    parts: tuple[list[int], list[int], list[int]] = ([], [], [])
    for group in _ordered_groups(groups, seed, len(smiles) - val_cut):
        if len(parts[0]) + len(group) <= train_cut:
            parts[0].extend(group)
        elif len(parts[0]) + len(parts[1]) + len(group) <= val_cut:
            parts[1].extend(group)
        else:
            parts[2].extend(group)
    return SplitIndex(
        *(torch.tensor(sorted(p), dtype=torch.long) for p in parts)
    )


def random_split(
    data: int | Sequence[str] | GraphDataset,
    frac: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
) -> SplitIndex:
    """Split molecules at random (MoleculeNet's "random" split).

    A thin wrapper of :func:`gnnkit.evaluate.splits.random_split` that
    returns a :class:`SplitIndex` like :func:`scaffold_split`.

    Args:
        data (int, list[str] or GraphDataset): the number of molecules,
            or the molecules themselves.
        frac (tuple, optional): train, validation and test fractions
            (default: ``(0.8, 0.1, 0.1)``).
        seed (int, optional): random seed (default: ``0``).

    Returns:
        SplitIndex: ``train``, ``val`` and ``test`` index tensors.
    """
    num_items = data if isinstance(data, int) else len(data)
    _sizes(num_items, frac)
    return SplitIndex(*splits.random_split(num_items, tuple(frac), seed))
