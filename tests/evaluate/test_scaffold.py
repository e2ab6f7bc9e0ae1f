from pathlib import Path

import pytest
import torch

from gnnkit.data.smiles_csv import read_smiles_csv
from gnnkit.errors import DataError
from gnnkit.evaluate.scaffold import (
    murcko_scaffold,
    random_split,
    scaffold_groups,
    scaffold_split,
)

# Scaffold sets: benzene 4, pyridine 2, cyclohexane 2, acyclic 1, furan 1.
SMILES = [
    "c1ccccc1O",
    "c1ccccc1N",
    "Cc1ccccc1",
    "c1ccccc1C(=O)O",
    "c1ccncc1",
    "Cc1ccncc1",
    "C1CCCCC1",
    "OC1CCCCC1",
    "CCO",
    "c1ccoc1",
]
ROOT = Path(__file__).resolve().parents[2]


def scaffolds_of(smiles, index):
    return {murcko_scaffold(smiles[i]) for i in index.tolist()}


def test_murcko_scaffold_values():
    assert murcko_scaffold("Cc1ccccc1") == "c1ccccc1"
    assert murcko_scaffold("CCO") == ""
    with pytest.raises(DataError, match="unclosed ring"):
        murcko_scaffold("C1CC")


def test_scaffold_split_deterministic_puts_largest_sets_first():
    # DeepChem order: by (size, first index), descending, so among the
    # two sets of size 2 cyclohexane (first index 6) goes before pyridine.
    split = scaffold_split(SMILES, frac=(0.6, 0.2, 0.2))
    assert split.train.tolist() == [0, 1, 2, 3, 6, 7]
    assert split.val.tolist() == [4, 5]
    assert split.test.tolist() == [8, 9]
    assert len(scaffold_groups(SMILES)) == 5


@pytest.mark.parametrize("seed", [None, 0, 1, 2])
def test_scaffold_split_no_scaffold_in_two_parts(seed):
    split = scaffold_split(SMILES, frac=(0.6, 0.2, 0.2), seed=seed)
    parts = [scaffolds_of(SMILES, p) for p in split]
    assert not parts[0] & parts[1]
    assert not parts[0] & parts[2]
    assert not parts[1] & parts[2]
    everything = torch.cat(list(split)).sort().values
    assert torch.equal(everything, torch.arange(len(SMILES)))


def test_scaffold_split_freesolv_seeds_differ_and_stay_disjoint():
    dataset = read_smiles_csv(
        ROOT / "data" / "FreeSolv" / "SAMPL.csv",
        target="expt",
        task="regression",
    )
    splits = [scaffold_split(dataset, seed=s) for s in (0, 1)]
    for split in splits:
        train, val, test = (
            scaffolds_of(dataset.graph_texts, p) for p in split
        )
        assert not train & test and not train & val and not val & test
        assert abs(len(split.train) - 0.8 * len(dataset)) <= 1
    assert not torch.equal(splits[0].test, splits[1].test)


def test_random_split_sizes_and_bad_fractions():
    split = random_split(SMILES, frac=(0.6, 0.2, 0.2), seed=0)
    assert [len(p) for p in split] == [6, 2, 2]
    assert torch.equal(torch.cat(list(split)).sort().values, torch.arange(10))
    with pytest.raises(ValueError, match="summing to 1"):
        scaffold_split(SMILES, frac=(0.5, 0.2, 0.2))
