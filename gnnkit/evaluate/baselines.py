"""A classical molecule baseline: Morgan fingerprints and a random forest.

The fingerprints come from RDKit and the forest from scikit-learn; it is
scored on the same splits as the GNNs.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from rdkit import DataStructs
from rdkit.Chem import rdFingerprintGenerator
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.molecules import parse_smiles
from gnnkit.errors import DataError
from gnnkit.evaluate.metrics import classification_metrics, regression_metrics


def morgan_fingerprints(
    smiles: Sequence[str], radius: int = 2, n_bits: int = 2048
) -> np.ndarray:
    """Morgan fingerprint bits of each molecule (ECFP4 by default).

    Args:
        smiles (sequence of str): the molecules.
        radius (int, optional): Morgan radius (default: ``2``).
        n_bits (int, optional): fingerprint length (default: ``2048``).

    Returns:
        np.ndarray: ``uint8`` array ``[len(smiles), n_bits]``.

    Raises:
        DataError: a SMILES cannot be read.
    """
    generator = rdFingerprintGenerator.GetMorganGenerator(
        radius=radius, fpSize=n_bits
    )
    out = np.zeros((len(smiles), n_bits), dtype=np.uint8)
    for i, text in enumerate(smiles):
        mol, reason = parse_smiles(text)
        if mol is None:
            raise DataError(
                f"molecule {i} ({text!r}) cannot be read: {reason}.",
                field="smiles",
            )
        DataStructs.ConvertToNumpyArray(generator.GetFingerprint(mol), out[i])
    return out


def fingerprint_baseline(
    dataset: GraphDataset,
    train_index: Sequence[int],
    test_index: Sequence[int],
    *,
    seed: int = 0,
    n_estimators: int = 500,
    radius: int = 2,
    n_bits: int = 2048,
    n_jobs: int = 1,
) -> dict[str, Any]:
    """Fit a random forest on Morgan fingerprints and score the test part.

    Args:
        dataset (GraphDataset): molecules with SMILES in ``graph_texts``.
        train_index (sequence of int): molecules to fit on (the GNN's
            train part; the forest needs no validation part).
        test_index (sequence of int): molecules to score.
        seed (int, optional): forest seed (default: ``0``).
        n_estimators (int, optional): trees (default: ``500``).
        radius (int, optional): Morgan radius (default: ``2``).
        n_bits (int, optional): fingerprint length (default: ``2048``).
        n_jobs (int, optional): worker processes (default: ``1``).

    Returns:
        dict: :func:`~gnnkit.evaluate.metrics.classification_metrics` (on
        class probabilities, so ``roc_auc`` is defined) or
        :func:`~gnnkit.evaluate.metrics.regression_metrics` of the test
        molecules.
    """
    if dataset.graph_texts is None:
        raise DataError(
            f"dataset '{dataset.name}' has no SMILES (graph_texts); read "
            "it with gnnkit.data.smiles_csv.read_smiles_csv."
        )
    train, test = _index(train_index), _index(test_index)
    features = morgan_fingerprints(dataset.graph_texts, radius, n_bits)
    y = dataset.y.numpy()
    kind = (
        RandomForestRegressor
        if dataset.task == "regression"
        else (RandomForestClassifier)
    )
    forest = kind(n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs)
    forest.fit(features[train], y[train])
    if dataset.task == "regression":
        return regression_metrics(y[test], forest.predict(features[test]))
    probs = np.zeros((len(test), dataset.num_classes))
    probs[:, forest.classes_] = forest.predict_proba(features[test])
    return classification_metrics(
        y[test], probs, num_classes=dataset.num_classes
    )


def _index(index: Sequence[int]) -> np.ndarray:
    return np.asarray([int(i) for i in index], dtype=np.int64)
