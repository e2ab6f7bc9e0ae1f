"""An on-disk cache of text embeddings keyed by encoder and text.

One safetensors shard per write, rows keyed by sha256(identity + text), so
a repeated run encodes nothing and a changed text re-encodes only itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
import warnings
from pathlib import Path
from typing import Any, Sequence

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save

from gnnkit._io import atomic_write_bytes

log = logging.getLogger(__name__)

ENV_VAR = "GNNKIT_CACHE"


def default_cache_dir() -> Path:
    """``$GNNKIT_CACHE`` if set, else ``.gnnkit_cache/`` in the cwd."""
    return Path(os.environ.get(ENV_VAR) or Path.cwd() / ".gnnkit_cache")


def cache_key(identity: str, text: str) -> str:
    """The sha256 hex digest that keys one (encoder, text) pair."""
    payload = f"{identity}\x00{text}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(payload).hexdigest()


class EmbeddingCache:
    """Embeddings stored on disk, looked up by encoder identity and text.

    Each :meth:`put_many` writes one shard ``emb-<id>.safetensors``
    atomically; the index (key -> shard, row) is read from the shards'
    headers, so concurrent runs never overwrite each other's entries.

    Args:
        directory (str or Path, optional): the cache folder
            (default: :func:`default_cache_dir`).

    Example:
        >>> cache = EmbeddingCache("runs/cache")
        >>> x = encoder.encode(texts, cache=cache)  # second run: no LM
        >>> cache.hits, cache.misses
    """

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = Path(directory or default_cache_dir())
        self.hits = 0
        self.misses = 0
        self._index: dict[str, tuple[str, int]] | None = None
        self._shards: dict[str, torch.Tensor] = {}

    def __repr__(self) -> str:
        return (
            f"EmbeddingCache({str(self.directory)!r}, entries={len(self)}, "
            f"hits={self.hits}, misses={self.misses})"
        )

    def __len__(self) -> int:
        return len(self._load_index())

    def _load_index(self) -> dict[str, tuple[str, int]]:
        if self._index is None:
            self._index = {}
            for shard in sorted(self.directory.glob("emb-*.safetensors")):
                self._index_shard(shard)
        return self._index

    def _index_shard(self, shard: Path) -> None:
        try:
            with safe_open(str(shard), framework="pt") as handle:
                keys = json.loads(handle.metadata()["keys"])
        except Exception as err:  # a foreign or damaged file
            warnings.warn(
                f"Ignoring unreadable cache shard {shard} ({err}); its "
                "texts will be encoded again. Delete it to silence this.",
                stacklevel=4,
            )
            return
        for row, key in enumerate(keys):
            self._index[key] = (shard.name, row)

    def _shard(self, name: str) -> torch.Tensor:
        if name not in self._shards:
            path = self.directory / name
            self._shards[name] = load_file(str(path))["embeddings"]
        return self._shards[name]

    def get_many(
        self, identity: str, texts: Sequence[str]
    ) -> tuple[dict[int, torch.Tensor], list[int]]:
        """Look up the embeddings of ``texts`` under ``identity``.

        Args:
            identity (str): the encoder identity (``TextEncoder.identity``).
            texts (Sequence[str]): the texts.

        Returns:
            tuple: ``(found, missing)``: a dict from position in ``texts``
            to its embedding ``[d]``, and the positions not in the cache.
        """
        index = self._load_index()
        found: dict[int, torch.Tensor] = {}
        missing: list[int] = []
        for i, text in enumerate(texts):
            entry = index.get(cache_key(identity, text))
            if entry is None:
                missing.append(i)
            else:
                found[i] = self._shard(entry[0])[entry[1]]
        self.hits += len(found)
        self.misses += len(missing)
        log.debug("%d cache hits, %d misses", len(found), len(missing))
        return found, missing

    def put_many(
        self,
        identity: str,
        texts: Sequence[str],
        embeddings: torch.Tensor,
    ) -> Path | None:
        """Store one embedding per text in a new shard.

        Args:
            identity (str): the encoder identity.
            texts (Sequence[str]): the texts, one per row.
            embeddings (Tensor): ``[len(texts), d]``.

        Returns:
            Path or None: the shard written (``None`` if nothing to store).
        """
        if embeddings.dim() != 2 or embeddings.size(0) != len(texts):
            raise ValueError(
                "embeddings must be [len(texts), d] "
                f"(got {tuple(embeddings.shape)} for {len(texts)} texts)."
            )
        if len(texts) == 0:
            return None
        index = self._load_index()
        keys = [cache_key(identity, text) for text in texts]
        tensor = embeddings.detach().cpu().contiguous()
        metadata = {"keys": json.dumps(keys), "identity": identity}
        name = f"emb-{uuid.uuid4().hex}.safetensors"
        payload = save({"embeddings": tensor}, metadata=metadata)
        path = atomic_write_bytes(self.directory / name, payload)
        self._shards[name] = tensor
        for row, key in enumerate(keys):
            index[key] = (name, row)
        return path

    def clear(self) -> None:
        """Delete every shard of this cache and reset the statistics."""
        for shard in self.directory.glob("emb-*.safetensors"):
            shard.unlink(missing_ok=True)
        self._index, self._shards = None, {}
        self.hits = self.misses = 0


def state_digest(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the names and raw bytes of a model's state dict."""
    digest = hashlib.sha256()
    for name, tensor in state.items():
        flat = tensor.detach().cpu().contiguous().view(-1)
        digest.update(name.encode())
        digest.update(flat.view(torch.uint8).numpy())
    return digest.hexdigest()


def files_digest(folder: str | os.PathLike) -> str:
    """SHA-256 over the names, sizes and times of a folder's weight files."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).iterdir()):
        if path.suffix in (".safetensors", ".bin", ".pt", ".json"):
            stat = path.stat()
            digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}"
                          .encode())
    return digest.hexdigest()


def resolve_cache(cache: Any) -> EmbeddingCache | None:
    """An ``EmbeddingCache`` from a cache, a folder, ``True`` or ``None``."""
    if cache is None or cache is False:
        return None
    if cache is True:
        return EmbeddingCache()
    if isinstance(cache, EmbeddingCache):
        return cache
    if isinstance(cache, (str, os.PathLike)):
        return EmbeddingCache(Path(cache))
    raise TypeError(
        "cache must be an EmbeddingCache, a folder path, True or None "
        f"(got {type(cache).__name__})."
    )
