"""Molecules bench: gnnkit models against Morgan fingerprints + random forest.

For BBBP (ROC-AUC) and ESOL (RMSE), on balanced scaffold splits with seeds
0, 1, 2 (80/10/10; --split deepchem uses MoleculeNet's one deterministic
scaffold split instead), train three gnnkit models on identical batches:
  graph  -- GIN with bond features (GINE) on the RDKit graph,
  text   -- an MLP on the frozen all-MiniLM-L6-v2 embedding of the SMILES,
  fusion -- both, concatenated before the head (late fusion),
and a random forest on 2048-bit Morgan (radius 2) fingerprints fitted on the
same training molecules. gnnkit's best model is picked by its mean
*validation* score; the bar compares its mean *test* score with the forest.

Reference (MoleculeNet, Wu et al. 2018): graph convolutions about 0.69
ROC-AUC on BBBP scaffold; 0.58-0.97 RMSE on ESOL.

Run: .venv/bin/python bench/molecules.py [--seeds 0 1 2] [--epochs 150]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from gnnkit.data.shipped import load_dataset  # noqa: E402
from gnnkit.evaluate.baselines import fingerprint_baseline  # noqa: E402
from gnnkit.evaluate.metrics import (  # noqa: E402
    classification_metrics,
    regression_metrics,
)
from gnnkit.evaluate.scaffold import scaffold_split  # noqa: E402
from gnnkit.models.molecule_fusion import (  # noqa: E402
    MoleculeTextModel,
    attach_text,
)
from gnnkit.text.encoder import TextEncoder  # noqa: E402
from gnnkit.train.config import TrainConfig  # noqa: E402
from gnnkit.train.fit import fit  # noqa: E402
from gnnkit.train.predict import predict  # noqa: E402
from gnnkit.train.tasks import GraphTask  # noqa: E402

MODES = ("graph", "text", "fusion")
DATASETS = {"BBBP": "roc_auc", "ESOL": "rmse"}


class AUCGraphTask(GraphTask):
    """GraphTask that also reports validation ROC-AUC (binary tasks)."""

    def validate(self, model):
        out = super().validate(model)
        logits = torch.cat(
            [
                model(
                    b.x,
                    b.edge_index,
                    b.batch,
                    edge_attr=b.edge_attr,
                    num_graphs=b.num_graphs,
                )
                for b in self.val_batches
            ]
        )
        out["roc_auc"] = classification_metrics(self.val.y, logits)["roc_auc"]
        return out


def test_score(model, task, dataset, index):
    """ROC-AUC (classification) or RMSE (regression) on ``index``."""
    graphs = [dataset.graphs[i] for i in index.tolist()]
    out = predict(model, graphs)
    y = dataset.y[index]
    if dataset.task == "regression":
        pred = task.target_scaler.inverse_transform(out).view(-1)
        return regression_metrics(y, pred)["rmse"]
    return classification_metrics(y, out)["roc_auc"]


def train_one(dataset, split, mode, seed, args):
    """Train one model; return (validation score, test score, seconds)."""
    graphs = dataset.graphs
    kind = dataset.task
    task_cls = GraphTask if kind == "regression" else AUCGraphTask
    task = task_cls(
        [graphs[i] for i in split.train.tolist()],
        [graphs[i] for i in split.val.tolist()],
        task=kind,
        batch_size=64,
    )
    torch.manual_seed(seed)
    model = MoleculeTextModel(
        dataset.meta["atom_channels"],
        dataset.meta["text_channels"],
        dataset.num_classes,
        mode=mode,
        gnn="gin",
        hidden_channels=args.hidden,
        num_layers=args.layers,
        dropout=args.dropout,
        pooling="mean",
        edge_dim=dataset.num_edge_features,
    )
    monitor = "val_rmse" if kind == "regression" else "val_roc_auc"
    config = TrainConfig(
        epochs=args.epochs,
        lr=args.lr,
        weight_decay=1e-5,
        patience=args.patience,
        monitor=monitor,
        seed=seed,
        progress_bar=False,
    )
    result = fit(model, task, config)
    score = test_score(model, task, dataset, split.test)
    return result.best_score, score, result.train_seconds


def run_dataset(name, args, encoder):
    dataset = load_dataset(name)
    text = encoder.encode(dataset.graph_texts, cache=True, progress_bar=False)
    dataset = attach_text(dataset, text)
    metric = DATASETS[name]
    rows = {m: [] for m in (*MODES, "forest")}
    for seed in args.seeds:
        split = scaffold_split(
            dataset, seed=None if args.split == "deepchem" else seed
        )
        for mode in MODES:
            val, test, secs = train_one(dataset, split, mode, seed, args)
            rows[mode].append((val, test))
            print(
                f"{name} seed {seed} {mode:<6} val {metric} {val:.4f} "
                f"test {metric} {test:.4f} ({secs:.0f} s)",
                flush=True,
            )
        forest = fingerprint_baseline(
            dataset, split.train, split.test, seed=seed, n_estimators=500
        )
        rows["forest"].append((None, forest[metric]))
        print(
            f"{name} seed {seed} forest test {metric} {forest[metric]:.4f}",
            flush=True,
        )
    return summarize(name, metric, rows, args.split)


def summarize(name, metric, rows, split):
    higher = metric == "roc_auc"
    pick = max if higher else min
    best = pick(MODES, key=lambda m: statistics.mean(v for v, _ in rows[m]))
    print(
        f"\n{name} ({metric}, test, mean ± std over "
        f"{len(rows['forest'])} scaffold seeds):"
    )
    for model, values in rows.items():
        tests = [t for _, t in values]
        tag = " <- gnnkit's best (by validation)" if model == best else ""
        print(
            f"  {model:<7} {statistics.mean(tests):.4f} ± "
            f"{statistics.pstdev(tests):.4f}{tag}"
        )
    ours = statistics.mean(t for _, t in rows[best])
    forest = statistics.mean(t for _, t in rows["forest"])
    wins = ours > forest if higher else ours < forest
    winner = f"gnnkit {best}" if wins else "random forest"
    print(
        f"  winner on {name}: {winner} ({ours:.4f} vs forest "
        f"{forest:.4f}); bar {'MET' if wins else 'NOT MET'}\n",
        flush=True,
    )
    return wins


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument(
        "--split",
        choices=("balanced", "deepchem"),
        default="balanced",
        help="balanced: a different scaffold split per "
        "seed (chemprop); deepchem: MoleculeNet's single "
        "deterministic split, seeds vary the models only",
    )
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--patience", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    start = time.perf_counter()
    encoder = TextEncoder()
    results = {
        name: run_dataset(name, args, encoder) for name in args.datasets
    }
    met = all(results.values())
    print(
        f"molecules bench: {'all bars MET' if met else 'a bar NOT MET'} "
        f"in {time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
