"""The node features of feature modes (``cascade_*``, ``tfidf_*``,
``hybrid_*``, ``gnn_*``), each computed once per dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from gnnkit.data.dataset import GraphDataset
from gnnkit.text.encoder import TextEncoder, encode_dataset

if TYPE_CHECKING:
    from gnnkit.evaluate.modes import CompareSettings


class FeatureStore:
    """Node features of a dataset, each computed once.

    ``"lm"`` are cached LM embeddings, ``"tfidf"`` TF-IDF vectors of the
    texts, ``"hybrid"`` both, each row-normalised, side by side, and
    ``"x"`` the dataset's own features.

    Args:
        dataset (GraphDataset): the dataset with node texts.
        settings (CompareSettings): encoder and TF-IDF settings.
    """

    def __init__(self, dataset: GraphDataset,
                 settings: CompareSettings) -> None:
        self.dataset, self.settings = dataset, settings
        texts = dataset.texts[0] if dataset.texts else []
        self.texts = ["" if t is None else t for t in texts]
        self._store: dict[str, torch.Tensor] = {}

    def get(self, kind: str) -> torch.Tensor:
        """The ``[num_nodes, F]`` features of ``kind``."""
        if kind not in self._store:
            self._store[kind] = getattr(self, f"_{kind}")()
        return self._store[kind]

    def _x(self) -> torch.Tensor:
        return self.dataset.graphs[0].x.float()

    def _lm(self) -> torch.Tensor:
        s = self.settings
        encoder = TextEncoder(s.lm, pooling=s.pooling,
                              max_length=s.max_length)
        encoded = encode_dataset(self.dataset, encoder, cache=s.cache,
                                 progress_bar=s.progress_bar)
        x = encoded.graphs[0].x  # [num_nodes, d]
        return F.normalize(x, dim=1) if s.normalize else x

    def _tfidf(self) -> torch.Tensor:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(
            max_features=self.settings.tfidf_features, sublinear_tf=True,
            stop_words="english")
        matrix = vectorizer.fit_transform(self.texts)
        return torch.tensor(matrix.toarray(), dtype=torch.float)

    def _hybrid(self) -> torch.Tensor:
        return torch.cat([F.normalize(self.get("lm"), dim=1),
                          F.normalize(self.get("tfidf"), dim=1)], dim=1)
