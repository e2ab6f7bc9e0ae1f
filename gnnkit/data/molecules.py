"""SMILES to PyG graphs through RDKit.

Atom and bond features have fixed widths (in the spirit of PyG's
``from_smiles`` and OGB's ``smiles2graph``); a SMILES RDKit cannot read
comes back with RDKit's own reason. CSV files of SMILES are read by
:mod:`gnnkit.data.smiles_csv`.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import torch
from rdkit import Chem, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize
from torch_geometric.data import Data
from torch_geometric.utils import sort_edge_index

from gnnkit.errors import DataError

ELEMENTS = (
    "C N O S F Cl Br I P B Si Se H Na K Li Ca Mg Zn Fe Cu Co Mn Al Sn Pt Hg As"
).split()
DEGREES = [0, 1, 2, 3, 4, 5]
NUM_HS = [0, 1, 2, 3]
HYBRIDIZATIONS = ["S", "SP", "SP2", "SP3", "SP3D", "SP3D2"]
BOND_TYPES = ["SINGLE", "DOUBLE", "TRIPLE", "AROMATIC"]


def _names(prefix: str, choices: Sequence[Any], last: str) -> list[str]:
    return [f"{prefix}={c}" for c in choices] + [f"{prefix}{last}"]


ATOM_FEATURE_NAMES = (
    _names("element", ELEMENTS, "=other") + _names("degree", DEGREES, ">5")
    + ["formal_charge", "aromatic", "in_ring"]
    + _names("num_hs", NUM_HS, ">3")
    + _names("hybridization", HYBRIDIZATIONS, "=other")
)  # fmt: skip
BOND_FEATURE_NAMES = _names("bond", BOND_TYPES, "=other")
BOND_FEATURE_NAMES += ["conjugated", "in_ring"]
NUM_ATOM_FEATURES = len(ATOM_FEATURE_NAMES)
NUM_BOND_FEATURES = len(BOND_FEATURE_NAMES)

_STAMP = re.compile(r"^\[\d\d:\d\d:\d\d\] ")


def _one_hot(value: Any, choices: Sequence[Any]) -> list[float]:
    """One-hot over ``choices`` plus a last "other" slot."""
    out = [0.0] * (len(choices) + 1)
    out[choices.index(value) if value in choices else -1] = 1.0
    return out


def atom_features(atom: Chem.Atom) -> list[float]:
    """Features of one RDKit atom, in the order of ``ATOM_FEATURE_NAMES``.

    Element, degree, number of hydrogens and hybridisation are one-hot
    (each with an "other" slot); the formal charge is kept signed.
    """
    return (
        _one_hot(atom.GetSymbol(), ELEMENTS)
        + _one_hot(atom.GetDegree(), DEGREES)
        + [
            float(atom.GetFormalCharge()),
            float(atom.GetIsAromatic()),
            float(atom.IsInRing()),
        ]
        + _one_hot(atom.GetTotalNumHs(), NUM_HS)
        + _one_hot(str(atom.GetHybridization()), HYBRIDIZATIONS)
    )


def bond_features(bond: Chem.Bond) -> list[float]:
    """Features of one RDKit bond, in the order of ``BOND_FEATURE_NAMES``."""
    return _one_hot(str(bond.GetBondType()), BOND_TYPES) + [
        float(bond.GetIsConjugated()),
        float(bond.IsInRing()),
    ]


def mol_to_graph(mol: Chem.Mol) -> Data:
    """A PyG graph of the heavy atoms of ``mol``.

    Each bond gives two directed edges. A molecule without bonds (one
    atom, or ions only) gets ``edge_index`` of shape ``[2, 0]`` and
    ``edge_attr`` of shape ``[0, NUM_BOND_FEATURES]``.

    Args:
        mol (rdkit.Chem.Mol): a sanitised molecule with at least one atom.

    Returns:
        Data: ``x`` ``[num_atoms, NUM_ATOM_FEATURES]``, ``edge_index``
        ``[2, 2 * num_bonds]``, ``edge_attr``
        ``[2 * num_bonds, NUM_BOND_FEATURES]``.
    """
    x = torch.tensor(
        [atom_features(a) for a in mol.GetAtoms()], dtype=torch.float
    ).view(-1, NUM_ATOM_FEATURES)
    pairs, attrs = [], []
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        feats = bond_features(bond)
        pairs += [(i, j), (j, i)]
        attrs += [feats, feats]
    edge_index = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    edge_attr = torch.tensor(attrs, dtype=torch.float)
    edge_attr = edge_attr.view(-1, NUM_BOND_FEATURES)
    edge_index, edge_attr = sort_edge_index(
        edge_index.contiguous(), edge_attr, num_nodes=x.size(0)
    )
    return Data(x=x, edge_index=edge_index, edge_attr=edge_attr)


def _rdkit_reason(log_text: str) -> str:
    """The useful part of RDKit's error log for one failed SMILES."""
    lines = [_STAMP.sub("", s).strip() for s in log_text.splitlines()]
    lines = [
        s[len("SMILES Parse Error: ") :]
        for s in lines
        if s.startswith("SMILES Parse Error: ")
    ]
    if len(lines) > 1:
        lines = [s for s in lines if not s.startswith("Failed parsing")]
    return "; ".join(s.rstrip(":") for s in lines) or "RDKit cannot parse it"


def parse_smiles(smiles: str) -> tuple[Chem.Mol | None, str | None]:
    """Parse and sanitise one SMILES, capturing RDKit's reason on failure.

    Args:
        smiles (str): the SMILES; surrounding whitespace is stripped.

    Returns:
        tuple: ``(mol, None)`` on success, ``(None, reason)`` otherwise,
        where ``reason`` is RDKit's message (e.g. ``"unclosed ring for
        input: 'C1CC'"`` or ``"Explicit valence for atom # 1 N, 4, is
        greater than permitted"``).
    """
    if not isinstance(smiles, str):
        return None, f"a SMILES is text, not {type(smiles).__name__}"
    smiles = smiles.strip()
    if not smiles:
        return None, "empty SMILES (the cell is blank)"
    with rdBase.CaptureErrorLog() as capture:
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None:
        return None, _rdkit_reason(capture.messages)
    try:
        with rdBase.BlockLogs():
            Chem.SanitizeMol(mol)
    except Exception as err:  # RDKit raises several MolSanitizeException
        return None, f"{type(err).__name__}: {err}"
    if mol.GetNumAtoms() == 0:
        return None, "the SMILES has no atoms"
    return mol, None


def smiles_to_graph(
    smiles: str, *, keep_largest_fragment: bool = False
) -> Data:
    """Turn one SMILES into a PyG graph (see :func:`mol_to_graph`).

    Args:
        smiles (str): the SMILES; surrounding whitespace is stripped.
        keep_largest_fragment (bool, optional): drop counter-ions and
            other small fragments (default: ``False``, every fragment is
            kept as its own connected component).

    Returns:
        Data: the graph (see :func:`mol_to_graph`).

    Raises:
        DataError: the SMILES is empty or RDKit cannot read it; the
            message carries RDKit's reason.

    Example:
        >>> smiles_to_graph("CC(=O)[O-].[Na+]").num_nodes
        5
    """
    mol, reason = parse_smiles(smiles)
    if mol is None:
        raise DataError(
            f"cannot read SMILES {smiles!r}: {reason}.", field="smiles"
        )
    return fragment_graph(mol, keep_largest_fragment)[0]


def fragment_graph(
    mol: Chem.Mol, keep_largest: bool
) -> tuple[Data, str, int]:
    """The graph of ``mol``, its kept SMILES and its fragment count.

    The SMILES is canonical when a fragment was chosen (RDKit's
    ``LargestFragmentChooser``), else empty.
    """
    fragments = len(Chem.GetMolFrags(mol))
    kept = ""
    if keep_largest and fragments > 1:
        chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=False)
        mol = chooser.choose(mol)
        kept = Chem.MolToSmiles(mol)
    return mol_to_graph(mol), kept, fragments
