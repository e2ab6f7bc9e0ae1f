"""Encoding speed: gnnkit's TextEncoder against sentence-transformers.

Both encode the same Cora_TAG texts with the shipped all-MiniLM-L6-v2 at the
same max length and batch size, in one run. Prints texts/second for both,
``ratio=`` (gnnkit/st, goal >= 1.0), the cosine agreement of the two
embeddings, and the speed-up of a repeated run on a warm cache (goal >= 50x).

    python bench/encode_speed.py            # 512 texts, about 2 minutes
    python bench/encode_speed.py --all      # all 2708 texts
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

from gnnkit.text.cache import EmbeddingCache  # noqa: E402
from gnnkit.text.encoder import TextEncoder, default_model_path  # noqa: E402

NODES = Path(__file__).resolve().parents[1] / "data/Cora_TAG/nodes.jsonl.gz"


def read_texts(n: int | None) -> list[str]:
    with gzip.open(NODES, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    return texts if n is None else texts[:n]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def compare(texts, args):
    encoder = TextEncoder(max_length=args.max_length)
    st = SentenceTransformer(default_model_path(), device="cpu")
    st.max_seq_length = args.max_length
    ours_fn = partial(encoder.encode, texts, batch_size=args.batch_size,
                      progress_bar=False)
    st_fn = partial(st.encode, texts, batch_size=args.batch_size,
                    convert_to_tensor=True)
    encoder.encode(texts[:8], progress_bar=False)  # warm-up both
    st.encode(texts[:8])
    ours_s, st_s = [], []
    for _ in range(args.rounds):  # interleaved: both see the same load
        ours, seconds = timed(ours_fn)
        ours_s.append(seconds)
        theirs, seconds = timed(st_fn)
        st_s.append(seconds)
    return encoder, ours, theirs, min(ours_s), min(st_s)


def cache_speedup(encoder, texts, args, cold_s):
    with tempfile.TemporaryDirectory() as folder:
        fill = EmbeddingCache(folder)
        encoder.encode(texts, batch_size=args.batch_size, cache=fill,
                       progress_bar=False)
        warm = EmbeddingCache(folder)  # a new run reads the shards
        _, warm_s = timed(lambda: encoder.encode(
            texts, batch_size=args.batch_size, cache=warm,
            progress_bar=False))
        return warm_s, warm.hits, warm.misses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    texts = read_texts(None if args.all else args.n)
    warnings.filterwarnings("ignore", message=".*usable length")
    print(f"texts={len(texts)} max_length={args.max_length} "
          f"batch_size={args.batch_size} threads={torch.get_num_threads()}")

    encoder, ours, theirs, ours_s, st_s = compare(texts, args)
    ours_n = torch.nn.functional.normalize(ours, dim=-1)
    cosine = (ours_n * torch.nn.functional.normalize(theirs, dim=-1))
    cosine = cosine.sum(-1)
    print(f"gnnkit: {len(texts) / ours_s:.1f} texts/s ({ours_s:.2f} s)")
    print(f"sentence-transformers: {len(texts) / st_s:.1f} texts/s "
          f"({st_s:.2f} s)")
    print(f"ratio={st_s / ours_s:.3f} (gnnkit/st speed, goal >= 1.0)")
    print(f"cosine min={cosine.min():.6f} mean={cosine.mean():.6f} "
          "(goal > 0.999)")

    warm_s, hits, misses = cache_speedup(encoder, texts, args, ours_s)
    print(f"warm cache: {warm_s:.3f} s, hits={hits} misses={misses}, "
          f"speed-up={ours_s / warm_s:.0f}x (goal >= 50x)")


if __name__ == "__main__":
    main()
