"""Knowledge graphs as tab-separated triples with entity and relation texts.

Reads the KG-BERT folder layout (``train.tsv``, ``dev.tsv``, ``test.tsv``,
``entities.txt``, ``relations.txt``, ``entity2text.txt``,
``relation2text.txt``; any file may be gzipped) into one node-level
:class:`GraphDataset` whose graph holds the training triples as typed
edges, as PyG's RGCN examples expect (``edge_index`` plus ``edge_type``).
The known true answers of each query and the filtered rank live here too,
so training tasks and evaluation share one implementation of the protocol.
"""

from __future__ import annotations

import gzip
import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import torch
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.data.shipped import shipped_folder
from gnnkit.errors import DataError

Answers = dict[tuple[int, int], list[int]]

SPLITS = {"train": "train.tsv", "valid": "dev.tsv", "test": "test.tsv"}


def _find(folder: Path, name: str, required: bool = True) -> Path | None:
    """``folder/name`` or its ``.gz`` twin."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    if required:
        raise DataError(
            f"missing {name} (or {name}.gz); a knowledge-graph folder needs "
            "train.tsv, dev.tsv and test.tsv with head<TAB>relation<TAB>tail "
            "lines.",
            path=folder,
        )
    return None


def _lines(path: Path) -> list[tuple[int, str]]:
    """Non-empty lines of a (possibly gzipped) UTF-8 file with numbers."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as err:
        raise DataError(
            f"not valid UTF-8 (byte 0x{err.object[err.start]:02X} at "
            f"offset {err.start}); re-save the file as UTF-8.",
            path=path,
        ) from None
    lines = text.split("\n")
    return [(i + 1, s.rstrip("\r")) for i, s in enumerate(lines) if s.strip()]


def _names(path: Path | None) -> list[str] | None:
    """The ids listed one per line in ``path`` (first column); an id
    listed twice is a DataError naming both lines."""
    if path is None:
        return None
    first: dict[str, int] = {}
    for number, line in _lines(path):
        name = line.split("\t")[0].strip()
        if name in first:
            raise DataError(
                f"{name!r} is listed twice (lines {first[name]} and "
                f"{number}); list each id once.",
                path=path,
                line=number,
            )
        first[name] = number
    return list(first)


def _texts(path: Path | None) -> dict[str, str]:
    """``id -> text`` from a two-column ``id<TAB>text`` file."""
    if path is None:
        return {}
    out = {}
    for number, line in _lines(path):
        parts = line.split("\t", 1)
        if len(parts) != 2:
            raise DataError(
                "expected 'id<TAB>text' (got no tab).",
                path=path,
                line=number,
            )
        out[parts[0].strip()] = parts[1].strip()
    return out


def _read_triples(
    path: Path,
    entities: dict[str, int],
    relations: dict[str, int],
    listed: tuple[bool, bool],
) -> torch.Tensor:
    """``[M, 3]`` (head, relation, tail) ids of one split file."""
    rows = []
    for number, line in _lines(path):
        parts = [p.strip() for p in line.split("\t")]
        if len(parts) != 3:
            raise DataError(
                f"expected head<TAB>relation<TAB>tail (got {len(parts)} "
                "fields).",
                path=path,
                line=number,
            )
        row = []
        for value, table, field in zip(
            parts,
            (entities, relations, entities),
            ("head", "relation", "tail"),
        ):
            if value not in table:
                what = "relations" if field == "relation" else "entities"
                if listed[field == "relation"]:
                    raise DataError(
                        f"{field} {value!r} is not listed in {what}.txt; "
                        "add it there or fix the triple.",
                        path=path,
                        line=number,
                        field=field,
                    )
                table[value] = len(table)
            row.append(table[value])
        rows.append(row)
    return torch.tensor(rows, dtype=torch.long).view(-1, 3)


def _text_list(ids: list[str], texts: dict[str, str], what: str) -> list:
    """One text per id; the id itself (underscores as spaces) if missing."""
    missing = [i for i in ids if i not in texts]
    if missing:
        warnings.warn(
            f"{len(missing)} {what} have no text (e.g. {missing[:3]}; "
            "is the text file there?); their ids are used as text instead.",
            stacklevel=3,
        )
    return [texts.get(i, i.replace("_", " ").strip()) for i in ids]


def _read_splits(path: Path) -> tuple[dict, dict, dict[str, torch.Tensor]]:
    """Entity and relation ids (listed or as met) and the split triples."""
    listed_entities = _names(_find(path, "entities.txt", False))
    listed_relations = _names(_find(path, "relations.txt", False))
    entities = {e: i for i, e in enumerate(listed_entities or [])}
    relations = {r: i for i, r in enumerate(listed_relations or [])}
    listed = (bool(listed_entities), bool(listed_relations))
    triples = {}
    for split, name in SPLITS.items():
        found = _find(path, name)
        triples[split] = _read_triples(found, entities, relations, listed)
        if not len(triples[split]):
            raise DataError(
                f"the file has no triples; the {split} split needs at "
                "least one head<TAB>relation<TAB>tail line.",
                path=found,
            )
    return entities, relations, triples


def _resolve(folder: str | os.PathLike) -> Path:
    """A folder path, or a shipped dataset name such as ``"UMLS_KG"``."""
    path = Path(folder).expanduser()
    shipped = shipped_folder(str(folder))
    if path.is_dir():
        if shipped is not None and shipped.resolve() != path.resolve():
            warnings.warn(
                f"'{folder}' is both a folder here and a shipped knowledge "
                f"graph; reading the local folder {path.resolve()}.",
                stacklevel=3,
            )
        return path
    if shipped is not None:
        return shipped
    raise DataError(
        "not a folder, nor a shipped knowledge graph (e.g. 'UMLS_KG', "
        "'WN18RR_KG').",
        path=path,
    )


def read_kg(
    folder: str | os.PathLike,
    *,
    entity_text: str = "entity2text.txt",
    relation_text: str = "relation2text.txt",
    name: str | None = None,
) -> GraphDataset:
    """Read a knowledge graph with entity and relation texts.

    Args:
        folder (str or PathLike): the folder, or a shipped name
            (``"UMLS_KG"``, ``"WN18RR_KG"``).
        entity_text (str, optional): file of ``id<TAB>text`` entity texts,
            e.g. ``"entity2textlong.txt"`` for UMLS's long descriptions
            (default: ``"entity2text.txt"``).
        relation_text (str, optional): file of relation texts
            (default: ``"relation2text.txt"``).
        name (str, optional): dataset name (default: the folder name).

    Returns:
        GraphDataset: node level, one graph with ``num_nodes`` entities,
        ``edge_index`` ``[2, M]`` (head to tail) and ``edge_type`` ``[M]``
        from the training triples, and ``train_triples``,
        ``valid_triples``, ``test_triples`` ``[*, 3]`` (head, relation,
        tail). ``node_ids`` are the entity ids and ``texts`` their texts;
        ``meta`` holds ``relations``, ``relation_texts`` and
        ``num_relations``.

    Raises:
        DataError: a split file is missing or has no triples, a line is
            not a triple, an id is listed twice in ``entities.txt`` or
            ``relations.txt``, or a triple names an entity or relation
            missing from them.

    Example:
        >>> kg = read_kg("UMLS_KG")
        >>> kg[0].train_triples.shape
        torch.Size([5216, 3])
    """
    path = _resolve(folder)
    entities, relations, triples = _read_splits(path)
    entity_ids, relation_ids = list(entities), list(relations)
    entity_texts = _texts(_find(path, entity_text, required=False))
    relation_texts = _texts(_find(path, relation_text, required=False))
    train = triples["train"]
    data = Data(
        num_nodes=len(entity_ids),
        edge_index=train[:, [0, 2]].t().contiguous(),
        edge_type=train[:, 1].contiguous(),
        train_triples=train,
        valid_triples=triples["valid"],
        test_triples=triples["test"],
    )
    return GraphDataset(
        graphs=[data],
        level="node",
        name=name or path.name,
        node_ids=[entity_ids],
        texts=[_text_list(entity_ids, entity_texts, "entities")],
        meta={
            "path": str(path),
            "task": "link",
            "relations": relation_ids,
            "relation_texts": _text_list(
                relation_ids, relation_texts, "relations"
            ),
            "num_relations": len(relation_ids),
        },
    )


# The filtered ranking protocol (Bordes et al. 2013): the known true
# answers of each query and the rank of one answer among the rest.


def answer_sets(triples: Iterable[torch.Tensor]) -> Answers:
    """Every known answer of every ``(query entity, relation)`` pair.

    Args:
        triples (iterable of Tensor): ``[M, 3]`` tensors of
            ``(head, relation, tail)`` rows, e.g. train, valid and test.

    Returns:
        dict: ``(head, relation) -> sorted list of tails``.
    """
    answers: dict[tuple[int, int], set[int]] = {}
    for part in triples:
        for h, r, t in part.tolist():
            answers.setdefault((h, r), set()).add(t)
    return {key: sorted(value) for key, value in answers.items()}


def filter_mask(
    queries: torch.Tensor, answers: Answers, num_candidates: int
) -> torch.Tensor:
    """Boolean ``[B, num_candidates]`` mask of known answers per query.

    Args:
        queries (Tensor): ``[B, 2]`` rows of ``(entity, relation)``.
        answers (dict): from :func:`answer_sets`.
        num_candidates (int): number of entities.
    """
    mask = torch.zeros(len(queries), num_candidates, dtype=torch.bool)
    for row, (h, r) in enumerate(queries.tolist()):
        known = answers.get((h, r))
        if known:
            mask[row, known] = True
    return mask


def filtered_ranks(
    scores: torch.Tensor,
    target: torch.Tensor,
    known: torch.Tensor | None = None,
) -> torch.Tensor:
    """1-based rank of each target among all candidates (higher = better).

    Candidates marked in ``known`` other than the target itself are
    removed first (the filtered setting); without ``known`` the ranks are
    "raw". Ties count half: ``rank = 1 + #better + #tied / 2``, the
    expected rank under a random order of tied candidates (PyKEEN's
    "realistic" rank), so a constant scorer gets the middle rank, not
    rank 1.

    Args:
        scores (Tensor): ``[B, N]`` score of every candidate per query.
        target (Tensor): ``[B]`` index of the true candidate.
        known (Tensor, optional): ``[B, N]`` boolean mask of all known
            true candidates (the target may be included).

    Returns:
        Tensor: ``[B]`` float ranks.

    Example:
        >>> scores = torch.tensor([[0.9, 0.5, 0.7]])
        >>> known = torch.tensor([[True, True, False]])
        >>> filtered_ranks(scores, torch.tensor([1]), known)
        tensor([2.])
    """
    scores = scores.detach().float()
    rows = torch.arange(scores.size(0))
    true_score = scores[rows, target].unsqueeze(1)
    drop = torch.zeros_like(scores, dtype=torch.bool)
    if known is not None:
        drop = known.to(scores.device).clone()
    drop[rows, target] = True  # the target is not its own competitor
    better = ((scores > true_score) & ~drop).sum(dim=1)
    tied = ((scores == true_score) & ~drop).sum(dim=1)
    return 1.0 + better.float() + tied.float() / 2.0


def ranking_metrics(
    ranks: torch.Tensor, ks: Sequence[int] = (1, 3, 10)
) -> dict[str, float]:
    """MRR, mean rank and Hits@k of a set of ranks.

    Args:
        ranks (Tensor): 1-based ranks (float ranks from ties allowed).
        ks (sequence of int, optional): the cut-offs ``k`` of Hits@k
            (default: ``(1, 3, 10)``).

    Returns:
        dict: ``{"mrr", "mean_rank", "hits@1", ..., "count"}``.
    """
    ranks = ranks.detach().float().view(-1)
    if ranks.numel() == 0:
        raise ValueError("ranking_metrics needs at least one rank (got 0).")
    out = {
        "mrr": float((1.0 / ranks).mean()),
        "mean_rank": float(ranks.mean()),
    }
    for k in ks:
        out[f"hits@{k}"] = float((ranks <= k).float().mean())
    out["count"] = int(ranks.numel())
    return out
