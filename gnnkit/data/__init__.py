"""Readers that turn files into graphs, the shipped datasets, summaries.

Readers cover TU folders, CSV/TSV/JSON Lines tables, networkx graphs,
JSON graph files, SMILES tables and knowledge graphs; each returns a
:class:`gnnkit.data.dataset.GraphDataset`.
"""
