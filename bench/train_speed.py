"""Epoch time of gnnkit's fit loop against the textbook PyG loop.

The same GIN (4 layers, 64 hidden, sum pooling) trains on MUTAG for the
same number of epochs, batch size 32, AdamW, once with gnnkit.train.fit
and once with the loop of PyG's examples (DataLoader(shuffle=True),
forward, backward, step; validation through a DataLoader each epoch).
Rounds alternate between the two loops; the median epoch time is kept.
The last line is ``ratio=<gnnkit/textbook>`` (goal: <= 0.5).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch_geometric.loader import DataLoader

from gnnkit.data.shipped import load_dataset
from gnnkit.evaluate.splits import random_split
from gnnkit.models.backbones import build_model
from gnnkit.train.config import TrainConfig
from gnnkit.train.fit import fit
from gnnkit.train.predict import predict
from gnnkit.train.tasks import GraphTask


def make_model(dataset, seed):
    torch.manual_seed(seed)
    return build_model("gin", dataset.num_features, dataset.num_classes,
                       hidden_channels=64, num_layers=4, pooling="sum")


def textbook(dataset, train, val, epochs, seed):
    model = make_model(dataset, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2,
                                  weight_decay=5e-4)
    train_loader = DataLoader(train, batch_size=32, shuffle=True)
    val_loader = DataLoader(val, batch_size=256)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for data in train_loader:
            optimizer.zero_grad()
            out = model(data.x, data.edge_index, data.batch)
            loss = F.cross_entropy(out, data.y)
            loss.backward()
            optimizer.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for data in val_loader:
                out = model(data.x, data.edge_index, data.batch)
                correct += int((out.argmax(-1) == data.y).sum())
    return model, (time.perf_counter() - start) / epochs


def gnnkit_loop(dataset, train, val, epochs, seed):
    model = make_model(dataset, seed)
    task = GraphTask(train, val, batch_size=32)
    config = TrainConfig(epochs=epochs, lr=1e-2, seed=seed,
                         progress_bar=False)
    start = time.perf_counter()
    fit(model, task, config)
    return model, (time.perf_counter() - start) / epochs


def accuracy(model, graphs):
    y = torch.cat([g.y for g in graphs])
    return float((predict(model, graphs).argmax(-1) == y).float().mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (small graphs: 1 is fastest)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    dataset = load_dataset("MUTAG")
    parts = random_split(len(dataset), (0.7, 0.1, 0.2), seed=0,
                         stratify=dataset.y)
    train, val, test = (dataset.subset(p).graphs for p in parts)
    print(f"MUTAG: {len(train)} train / {len(val)} val / {len(test)} test "
          f"graphs, GIN 4x64, {args.epochs} epochs, batch 32, "
          f"{torch.get_num_threads()} threads")
    loops = {"textbook": textbook, "gnnkit": gnnkit_loop}
    times = {name: [] for name in loops}
    accs = {name: [] for name in loops}
    gnnkit_loop(dataset, train, val, 2, 0)  # warm-up
    for seed in range(args.rounds):
        for name, loop in loops.items():
            model, seconds = loop(dataset, train, val, args.epochs, seed)
            times[name].append(seconds)
            accs[name].append(accuracy(model, test))
    for name in loops:
        print(f"{name:9s} epoch {1000 * statistics.median(times[name]):6.1f}"
              f" ms (rounds: "
              f"{', '.join(f'{1000 * t:.1f}' for t in times[name])}), "
              f"test accuracy {statistics.mean(accs[name]):.3f} "
              f"({', '.join(f'{a:.3f}' for a in accs[name])})")
    ratio = statistics.median(times["gnnkit"]) / \
        statistics.median(times["textbook"])
    print(f"ratio={ratio:.3f}")


if __name__ == "__main__":
    main()
