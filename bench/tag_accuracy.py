"""Accuracy bars on Cora_TAG (issue 3, section 8), measured with gnnkit's
compare() beside a plain PyG reference loop on the same splits.

Bars: 60/20/20 over 5 seeds, validation-selected: cascade MiniLM + GCN
>= 0.885 (the reference loop gave 0.886 +- 0.015, TF-IDF + GCN 0.885) and
the best gnnkit mode >= 0.90; with 20 labels per class the best mode
>= 0.84 (reference 0.826). The 1- and 5-label rows show where the LM helps.

"Best mode" is chosen on mean validation accuracy, never on test: the
bar is checked on the test accuracy of the mode validation picks (the
best single model, ensembles left out, is shown too).

Measured (5 seeds, 1 torch thread): 60/20/20 cascade_gcn 0.894, best on
validation hybrid_grand 0.907 (both bars met); 20 per class best on
validation hybrid_grand 0.828 +- 0.011 (cascade_grand 0.828,
hybrid_appnp 0.815, reference GCN 0.804 MiniLM / 0.815 TF-IDF): GRAND
gains 0.013 but the 0.84 bar stays unmet. Low-label add-ons, tried on
tuning seeds 100-104 (validation, hybrid_grand 0.856) and left out: PyG's
Correct & Smooth with training labels only lowers GRAND to <= 0.849 and
APPNP from 0.845 to <= 0.840 and lifts an MLP only to 0.825; mixing in
label propagation <= 0.856; self-training on GRAND's confident
pseudo-labels (100 per class or p >= 0.9) 0.854 / 0.853.

MiniLM embeddings (256 tokens) go through the on-disk cache, so only the
first run pays the ~100 s of encoding.

    python bench/tag_accuracy.py [--seeds 5] [--modes ...] [--ks 1 5 20]
                                 [--skip-full]

``--skip-full`` leaves out the 60/20/20 split (about 22 min of the run)
and its bars, to re-check only the k-per-class rows.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv

from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.compare import compare, make_splits
from gnnkit.evaluate.modes import CompareSettings, FeatureStore

# hybrid_* read MiniLM embeddings beside TF-IDF; *_appnp is an MLP whose
# logits propagate 10 personalised-PageRank steps; *_grand is GRAND
# (random DropNode views that must agree on every node, the paper's Cora
# settings). The ensemble averages the probabilities of two
# validation-selected models that read the text differently (MiniLM with
# SAGE, TF-IDF with GCN); compare() reuses its members' runs.
MODES = ["tfidf_gcn", "mlp_lm", "cascade_gcn", "cascade_sage",
         "cascade_appnp", "hybrid_gcn", "hybrid_appnp", "cascade_grand",
         "hybrid_grand", "cascade_sage+tfidf_gcn"]


def reference_gcn(x, edge_index, y, split, seed):
    """The textbook two-layer GCN loop (Kipf and Welling), Adam with L2,
    best validation epoch, test scored at that epoch."""
    train, val, test = split
    torch.manual_seed(seed)
    conv1, conv2 = GCNConv(x.size(1), 128), GCNConv(128, int(y.max()) + 1)
    params = list(conv1.parameters()) + list(conv2.parameters())
    optimizer = torch.optim.Adam(params, lr=0.01, weight_decay=5e-4)

    def forward(training):
        h = F.dropout(conv1(x, edge_index).relu(), 0.5, training)
        return conv2(h, edge_index)

    best, score, waited = -1.0, 0.0, 0
    for _ in range(300):
        optimizer.zero_grad()
        F.cross_entropy(forward(True)[train], y[train]).backward()
        optimizer.step()
        with torch.no_grad():
            pred = forward(False).argmax(-1)
        acc = (pred[val] == y[val]).float().mean().item()
        if acc > best:
            best, waited = acc, 0
            score = (pred[test] == y[test]).float().mean().item()
        elif (waited := waited + 1) > 50:
            break
    return score


def reference_row(dataset, features, kind, seeds, split, k):
    x = features.get(kind)
    graph = dataset.graphs[0]
    y = graph.y.view(-1)
    splits = make_splits(y, seeds, split, k)
    scores = [reference_gcn(x, graph.edge_index, y, part, seed)
              for seed, part in zip(seeds, splits)]
    return float(np.mean(scores)), float(np.std(scores))


def check(name, row, bar):
    verdict = "PASS" if row["accuracy_mean"] >= bar else "FAIL"
    print(f"  {verdict}  {name}: {row['accuracy_mean']:.4f} ± "
          f"{row['accuracy_std']:.4f} test (bar {bar:.3f}; val "
          f"{row['val_accuracy_mean']:.4f})")


def check_best(label, rows, bar):
    """The bar on the mode with the best mean validation accuracy."""
    best = max(rows.values(), key=lambda row: row["val_accuracy_mean"])
    check(f"{label} best mode on validation ({best['mode']})", best, bar)
    single = [row for name, row in rows.items() if "+" not in name]
    if single and "+" in best["mode"]:
        one = max(single, key=lambda row: row["val_accuracy_mean"])
        check(f"{label} best single model on validation ({one['mode']})",
              one, bar)


def run_split(dataset, features, args, split, k=20):
    settings = CompareSettings(cache=args.cache)
    seeds = list(range(args.seeds))
    start = time.perf_counter()
    result = compare(dataset, args.modes, seeds=seeds, split=split, k=k,
                     settings=settings)
    print(result.format_table())
    if split != "k_per_class" or k == 20:  # the splits with references
        for kind, label in (("lm", "MiniLM"), ("tfidf", "TF-IDF")):
            mean, std = reference_row(dataset, features, kind, seeds, split,
                                      k)
            print(f"reference loop, {label} + GCN (same features and "
                  f"splits): {mean:.4f} ± {std:.4f}")
    print(f"({time.perf_counter() - start:.0f} s)\n")
    return {row["mode"]: row for row in result.rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--modes", nargs="+", default=MODES)
    parser.add_argument("--ks", nargs="*", type=int, default=[20, 5, 1])
    parser.add_argument("--cache", default=".gnnkit_cache")
    parser.add_argument("--skip-full", action="store_true",
                        help="run only the k-per-class splits")
    args = parser.parse_args()

    dataset = load_dataset("Cora_TAG")
    features = FeatureStore(dataset, CompareSettings(cache=args.cache))
    start = time.perf_counter()
    features.get("lm")
    print(f"MiniLM embeddings of {dataset.graphs[0].num_nodes} texts: "
          f"{time.perf_counter() - start:.1f} s (cached after the first "
          "run)\n")

    full = ({} if args.skip_full
            else run_split(dataset, features, args, "60/20/20"))
    by_k = {k: run_split(dataset, features, args, "k_per_class", k)
            for k in args.ks}
    print("Bars")
    if "cascade_gcn" in full:
        check("60/20/20 cascade MiniLM + GCN", full["cascade_gcn"], 0.885)
    if full:
        check_best("60/20/20", full, 0.90)
    if 20 in by_k:
        check_best("20 per class", by_k[20], 0.84)


if __name__ == "__main__":
    main()
