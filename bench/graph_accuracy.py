"""10-fold cross-validated accuracy on the shipped TU datasets.

For each dataset the best shipped model (settings in BEST) runs beside the
structure-agnostic MLP baseline under the same protocol: in every outer
fold an inner stratified validation split drives early stopping and each
test fold is used once, after training (Errica et al., 2020). Each fold
scores the mean class probabilities of 3 models (``cross_validate(...,
repeats=3)``), each with its own seed and inner validation split; the
MLP gets the same. Bars: MUTAG >= 0.88, PROTEINS >= 0.76, IMDB-BINARY
>= 0.73.

Winning settings (seed 0, one model per fold -> 3 averaged):

- MUTAG: GIN with bond types as edge features (GINEConv, ``edge_dim=4``)
  and jumping-knowledge concatenation of the 4 layers, sum pooling
  (0.8725 -> 0.8942; seed 1: 0.846 -> 0.883).
- IMDB-BINARY: 2-layer GIN with mean pooling on one-hot degrees
  (one model per fold: 4-layer sum 0.721, 2-layer mean 0.735; 3
  averaged: 0.741, MLP 0.740).
- PROTEINS: 4-layer GIN, sum pooling, one-hot node labels only
  (0.745 -> 0.757, MLP 0.747: just under the bar).

Measured and dropped: a per-layer sum readout over pooled layers
(Xu et al.) was no better than ``jk="cat"``; selecting on ``val_loss``,
a 20 % validation split, lr 3e-3, dropout 0, 5 layers of 32 all stayed
within noise on MUTAG; the PROTEINS length attribute as
``log1p(max(x, 0))`` (a per-value transform, nothing fitted) lowered
GIN 0.745 -> 0.744 and the MLP 0.739 -> 0.722.
"""

from __future__ import annotations

import argparse
import time

import torch

from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.cv import CV_TRAIN, cross_validate
from gnnkit.train.config import TrainConfig

#: dataset -> bar, best model, its build_model settings, train settings
#: (over CV_TRAIN) and models averaged per fold (cross_validate repeats).
BEST = {
    "MUTAG": dict(bar=0.88, model="gin", repeats=3,
                  model_kwargs={"edge_dim": 4, "jk": "cat"},
                  train_kwargs={}),
    "PROTEINS": dict(bar=0.76, model="gin", repeats=3, model_kwargs={},
                     train_kwargs={}),
    "IMDB-BINARY": dict(bar=0.73, model="gin", repeats=3,
                        model_kwargs={"pooling": "mean", "num_layers": 2},
                        train_kwargs={}),
}


def dataset_for(name):
    """The dataset with the usual benchmark features.

    PROTEINS keeps only its one-hot node labels (PyG's TUDataset default):
    its raw node attribute is an unscaled length with outliers (-538 and
    798 among values around 2-25).
    """
    dataset = load_dataset(name)
    if name == "PROTEINS":
        keep = [i for i, f in enumerate(dataset.feature_names)
                if f.startswith("node_label")]
        for graph in dataset.graphs:
            graph.x = graph.x[:, keep]
        dataset.feature_names = [dataset.feature_names[i] for i in keep]
    return dataset


def run(name, model, model_kwargs, train_kwargs, folds, seed, repeats):
    config = TrainConfig(**{**CV_TRAIN, **train_kwargs, "progress_bar":
                            False})
    start = time.perf_counter()
    result = cross_validate(dataset_for(name), model, folds=folds,
                            seed=seed, train_config=config,
                            model_kwargs=model_kwargs, repeats=repeats,
                            progress_bar=False)
    acc = result.summary["accuracy"]
    auc = result.summary["roc_auc"]
    return {
        "dataset": name, "model": model, "mean": acc["mean"],
        "std": acc["std"], "folds": acc["n_folds"],
        "auc": auc["mean"], "auc_defined": auc["n_defined"],
        "seconds": time.perf_counter() - start,
        "best_epochs": [f.best_epoch for f in result.folds],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(BEST))
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=None,
                        help="models averaged per fold (default: BEST)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (small graphs: 1 is fastest)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    print(f"{'dataset':12s} {'model':5s} {'accuracy':>16s} {'bar':>5s} "
          f"{'ok':>3s} {'ROC-AUC':>8s} {'time':>7s}  best epochs "
          "(first member)")
    best = {}
    for name in args.datasets:
        setting = BEST[name]
        bar, repeats = setting["bar"], args.repeats or setting["repeats"]
        for candidate, kwargs in ((setting["model"],
                                   setting["model_kwargs"]), ("mlp", {})):
            row = run(name, candidate, kwargs, setting["train_kwargs"],
                      args.folds, args.seed, repeats)
            ok = "yes" if row["mean"] >= bar else "no"
            print(f"{name:12s} {candidate:5s} {row['mean']:.4f} ± "
                  f"{row['std']:.4f} {bar:5.2f} {ok:>3s} "
                  f"{row['auc']:8.4f} {row['seconds']:6.0f}s  "
                  f"{row['best_epochs']}", flush=True)
            if row["mean"] > best.get(name, ("", -1.0))[1]:
                best[name] = (candidate, row["mean"])
    for name, (candidate, mean) in best.items():
        bar = BEST[name]["bar"]
        verdict = "reaches" if mean >= bar else "misses"
        print(f"best on {name}: {candidate} {mean:.4f} ({verdict} the bar "
              f"{bar:.2f})")


if __name__ == "__main__":
    main()
