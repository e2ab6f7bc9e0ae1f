"""``gnnkit run --task link``: link prediction on a graph (e.g. citation
recommendation on Cora_TAG) or completion of a knowledge graph (e.g.
UMLS_KG), writing ranking metrics and one node's top predicted links to
``metrics.json`` and ``report.html``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gnnkit._io import atomic_write_json
from gnnkit.data.knowledge import read_kg
from gnnkit.data.shipped import shipped_folder
from gnnkit.errors import DataError
from gnnkit.evaluate.ranking import (
    recommend,
    top_triples,
)
from gnnkit.models.kg import RelationalLinkModel, kg_text_features
from gnnkit.models.link import build_link_model
from gnnkit.text.encoder import TextEncoder
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.kg_tasks import KGTask
from gnnkit.train.link_tasks import LinkTask

GRAPH_PROTOCOL = (
    "Held-out links: PyG RandomLinkSplit, 85/5/10 % of the undirected "
    "edges for train/validation/test, as many sampled non-edges for "
    "validation and test; fresh negatives every epoch; the epoch with the "
    "best validation ROC-AUC is kept. Ranking: each held-out link (u, v) "
    "is ranked among all nodes for u, both ways, after removing u's other "
    "known links (filtered)."
)
KG_PROTOCOL = (
    "Filtered ranking over heads and tails (Bordes et al. 2013): each "
    "test triple (h, r, t) is scored against all entities as (h, r, ?) "
    "and (?, r, t), after removing every other true triple of "
    "train/valid/test; the epoch with the best validation MRR is kept."
)


def add_link_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``--task link`` (the node to show, how many links)."""
    group = parser.add_argument_group("link prediction (--task link)")
    group.add_argument(
        "--node",
        default=None,
        help="id of the node (or entity) whose top predicted "
        "links are shown (default: the first node of a "
        "held-out link)",
    )
    group.add_argument(
        "--top-k",
        type=int,
        default=10,
        help="how many predicted links to show (default: 10)",
    )
    group.add_argument(
        "--decoder",
        default="mlp",
        choices=("dot", "mlp"),
        help="pair decoder of graph link prediction (default: mlp)",
    )


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``link`` as a sub-command of its own."""
    from gnnkit.cli.run import add_data_options

    parser = subparsers.add_parser(
        "link",
        help="link prediction or knowledge-graph completion",
        description="Train a link predictor (or an R-GCN for a knowledge "
        "graph folder) and write ranking metrics and one node's top "
        "predicted links.",
    )
    add_data_options(parser, default="UMLS_KG", what="knowledge-graph "
                     "folder (train.tsv, dev.tsv, test.tsv) or shipped KG "
                     "such as WN18RR_KG, or a one-graph dataset or edge "
                     "table")
    parser.add_argument(
        "--model",
        default="gcn",
        help="GNN encoder of graph link prediction (default: gcn)",
    )
    for flag, what in (
        ("--epochs", "maximum epochs (default: 200; 60 for a knowledge "
         "graph)"),
        ("--hidden", "hidden channels (default: 256; 200 for a knowledge "
         "graph)"),
        ("--layers", "message-passing layers (default: 2; 1 for a "
         "knowledge graph)"),
    ):
        parser.add_argument(flag, type=int, default=None, help=what)
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed (default: 0)")
    parser.add_argument("--out", default=None,
                        help="output folder (default: runs/<dataset>-link)")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide progress bars")
    add_link_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Entry point of the ``link`` sub-command."""
    return run_link(args)


def run_link(args: argparse.Namespace) -> int:
    """Train, evaluate and report link prediction for ``args.dataset``."""
    if getattr(args, "no_progress", False):
        from gnnkit.cli.run import hide_library_progress

        hide_library_progress()
    folder = kg_folder(args.dataset)
    result = _kg_job(args, folder) if folder else _graph_job(args)
    out = Path(args.out or f"runs/{result['dataset']}-link")
    atomic_write_json(out / "metrics.json", result)
    _report(result).write(out / "report.html")
    _print(result, out)
    return 0


def kg_folder(name: str) -> Path | None:
    """The folder of a knowledge graph (``train.tsv`` inside), or None.

    A local folder wins over a shipped one of the same name (``read_kg``
    warns which one it reads).
    """
    return next((f for f in (Path(name).expanduser(), shipped_folder(name))
                 if f is not None and _has_triples(f)), None)


def _has_triples(folder: Path) -> bool:
    return folder.is_dir() and any(
        (folder / f).is_file() for f in ("train.tsv", "train.tsv.gz")
    )


def _option(args: argparse.Namespace, name: str, default: Any) -> Any:
    value = getattr(args, name, None)
    return default if value is None else value


def _config(args: argparse.Namespace, epochs: int, **kw) -> TrainConfig:
    return TrainConfig(
        epochs=_option(args, "epochs", epochs),
        seed=_option(args, "seed", 0),
        progress_bar=not getattr(args, "no_progress", False),
        **kw,
    )


def _graph_job(args: argparse.Namespace) -> dict[str, Any]:
    from gnnkit.cli.run import read_data

    dataset = read_data(args)
    if dataset.level != "node" or len(dataset.graphs) != 1:
        raise DataError(
            f"--task link needs one graph (a node-level "
            f"dataset); '{dataset.name}' has "
            f"{len(dataset.graphs)} graphs."
        )
    graph = dataset.graphs[0]
    if dataset.texts is not None:
        graph.x = TextEncoder().encode(
            dataset.texts[0],
            node_ids=dataset.node_ids[0],
            cache=True,
            progress_bar=not getattr(args, "no_progress", False),
        )
    task = LinkTask(dataset, seed=_option(args, "seed", 0))
    index = _query_index(args, dataset, task.test_data.pos_edge_label_index)
    model = build_link_model(
        _option(args, "model", "gcn"),
        graph.x.size(1),
        out_channels=128,
        hidden_channels=_option(args, "hidden", 256),
        num_layers=_option(args, "layers", 2),
        dropout=0.2,
        decoder=_option(args, "decoder", "mlp"),
    )
    fitted = fit(model, task, _config(args, 200, lr=0.01, weight_decay=0.0))
    node = dataset.node_ids[0][index]
    links = recommend(
        model,
        dataset,
        node,
        _option(args, "top_k", 10),
        edge_index=task.test_data.edge_index,
    )
    held = _held_out_pairs(task)
    for row in links:
        row["held_out"] = (index, row["index"]) in held
    return _result(
        dataset,
        model,
        fitted,
        GRAPH_PROTOCOL,
        node,
        task.evaluate(model),
        task.evaluate(model, "val"),
        links,
    )


def _query_index(args, dataset, held_out) -> int:
    """Index of ``--node``, or of the first node of a held-out link."""
    wanted = getattr(args, "node", None)
    if wanted is None:
        return int(held_out[0, 0])
    ids = [str(i) for i in dataset.node_ids[0]]
    if str(wanted) not in ids:
        raise DataError(
            f"--node {wanted!r} is not a node of "
            f"'{dataset.name}' (ids look like {ids[:3]})."
        )
    return ids.index(str(wanted))


def _held_out_pairs(task: LinkTask) -> set[tuple[int, int]]:
    pairs = set()
    for data in (task.val_data, task.test_data):
        for u, v in data.pos_edge_label_index.t().tolist():
            pairs.update({(u, v), (v, u)})
    return pairs


def _kg_job(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    kg = read_kg(folder)
    entity = _query_index(args, kg, kg[0].test_triples[:, [0, 2]].t())
    progress = not getattr(args, "no_progress", False)
    x, relation_x = kg_text_features(
        kg, TextEncoder(), cache=True, progress_bar=progress
    )
    task = KGTask(kg, x, batch_size=256)
    model = RelationalLinkModel(
        x.size(1),
        kg[0].num_nodes,
        kg.meta["num_relations"],
        relation_x=relation_x,
        hidden_channels=_option(args, "hidden", 200),
        num_layers=_option(args, "layers", 1),
    )
    fitted = fit(
        model, task, _config(args, 60, lr=3e-3, weight_decay=0.0, patience=10)
    )
    links = top_triples(
        model, task, entity, _option(args, "top_k", 10), dataset=kg
    )
    return _result(
        kg,
        model,
        fitted,
        KG_PROTOCOL,
        kg.node_ids[0][entity],
        task.evaluate(model),
        task.evaluate(model, "valid"),
        links,
    )


def _result(dataset, model, fitted, protocol, node, test, valid, links):
    index = [str(i) for i in dataset.node_ids[0]].index(str(node))
    texts = dataset.texts[0] if dataset.texts else None
    return {
        "dataset": dataset.name,
        "task": "link",
        "protocol": protocol,
        "model": model.config,
        "test": test,
        "validation": valid,
        "best_epoch": fitted.best_epoch,
        "monitor": fitted.monitor,
        "train_seconds": fitted.train_seconds,
        "history": fitted.history,
        "query": {"id": node, "text": texts[index] if texts else None},
        "top_links": links,
    }


def _flat(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if not isinstance(v, dict)}


def _link_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for link in result["top_links"]:
        text = link.get("tail_text", link.get("text")) or ""
        row = {"rank": link["rank"]}
        if "relation_text" in link:
            row["relation"] = link["relation_text"]
        row["id"] = link.get("tail_id", link.get("id"))
        row["score"] = link.get("probability", link.get("score"))
        row["held-out true link"] = "yes" if link["held_out"] else ""
        row["text"] = text if len(text) <= 160 else text[:157] + "..."
        rows.append(row)
    return rows


def _report(result: dict[str, Any]):
    from gnnkit.viz.figures import training_curves
    from gnnkit.viz.report import Report

    report = Report(f"{result['dataset']}: link prediction")
    report.add_text("Protocol", result["protocol"])
    rows = [
        {"part": part, **_flat(result[key])}
        for part, key in (("test", "test"), ("validation", "validation"))
    ]
    report.add_table("Ranking metrics", rows)
    report.add_figure(
        "Training", training_curves([result["history"]], labels=["run"])
    )
    query = result["query"]
    report.add_table(
        f"Top predicted links of {query['id']}",
        _link_rows(result),
        note=f"Query text: {query['text'] or '(none)'}. Links already in "
        "the training graph are left out; 'held-out true link' marks "
        "validation or test links the model never saw.",
    )
    return report


def _print(result: dict[str, Any], out: Path) -> None:
    test = result["test"]
    keys = [k for k in ("roc_auc", "mrr", "hits@1", "hits@10") if k in test]
    print(
        f"{result['dataset']} link prediction, test: "
        + ", ".join(f"{k} {test[k]:.4f}" for k in keys)
    )
    print(f"\ntop links of {result['query']['id']}:")
    for row in _link_rows(result):
        rel = f" {row['relation']} ->" if "relation" in row else ""
        flag = " [held-out true link]" if row["held-out true link"] else ""
        print(
            f"  {row['rank']:>2}.{rel} {row['id']} ({row['score']:.3f})"
            f"{flag}: {row['text'][:70]}"
        )
    print(f"\nreport:  {out / 'report.html'}\nmetrics: {out / 'metrics.json'}")
    sys.stdout.flush()
