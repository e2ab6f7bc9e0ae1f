"""Knowledge-graph completion models fed with language-model text.

An R-GCN entity encoder (Schlichtkrull et al. 2018) over projected entity
texts plus learned entity vectors, with a DistMult or ComplEx decoder that
scores every entity as the tail of a ``(head, relation)`` query; heads are
scored as tails of the inverse relation.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn import RGCNConv

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError, ModelError
from gnnkit.models.persist import register_kind

KG_DECODERS = ("distmult", "complex")


def add_inverse_edges(
    edge_index: Tensor, edge_type: Tensor, num_relations: int
) -> tuple[Tensor, Tensor]:
    """Add ``tail -> head`` edges typed ``relation + num_relations``."""
    flipped = edge_index.flip(0)
    return (
        torch.cat([edge_index, flipped], 1),
        torch.cat([edge_type, edge_type + num_relations]),
    )


class RelationalLinkModel(nn.Module):
    r"""R-GCN entity encoder with a DistMult or ComplEx decoder.

    Entities start from projected text embeddings plus a learned
    embedding per entity; relations (and their inverses, used to predict
    heads) from projected relation-text embeddings plus a learned vector.
    The score of a triple is DistMult's :math:`\langle h, r, t \rangle`
    or ComplEx's :math:`\mathrm{Re}\langle h, r, \bar t \rangle`.

    Args:
        in_channels (int): width of the entity text features ``x``.
        num_entities (int): number of entities.
        num_relations (int): relation types, inverses not counted.
        relation_x (Tensor, optional): ``[2 * num_relations, in_channels]``
            text embeddings of the relations and their inverses.
        hidden_channels (int, optional): embedding width (default: 200).
        num_layers (int, optional): R-GCN layers; 0 keeps the input
            embeddings (default: ``1``).
        num_bases (int, optional): basis decomposition of the R-GCN
            weights (default: ``None``, full weights).
        dropout (float, optional): dropout on embeddings (default: 0.2).
        decoder (str, optional): ``"distmult"`` or ``"complex"``
            (default: ``"complex"``).
        entity_embedding (bool, optional): add a learned vector per
            entity (default: ``True``).
    """

    kind = "relational_link_model"

    def __init__(
        self,
        in_channels: int,
        num_entities: int,
        num_relations: int,
        *,
        relation_x: Tensor | None = None,
        hidden_channels: int = 200,
        num_layers: int = 1,
        num_bases: int | None = None,
        dropout: float = 0.2,
        decoder: str = "complex",
        entity_embedding: bool = True,
    ) -> None:
        super().__init__()
        if decoder not in KG_DECODERS:
            raise ValueError(
                f"decoder must be one of {KG_DECODERS} (got {decoder!r})."
            )
        if decoder == "complex" and hidden_channels % 2:
            raise ValueError(
                "ComplEx needs an even hidden_channels "
                f"(got {hidden_channels})."
            )
        self.config = dict(
            in_channels=in_channels,
            num_entities=num_entities,
            num_relations=num_relations,
            hidden_channels=hidden_channels,
            num_layers=num_layers,
            num_bases=num_bases,
            dropout=dropout,
            decoder=decoder,
            entity_embedding=entity_embedding,
            relation_text=relation_x is not None,
        )
        self.num_relations = num_relations
        self.decoder = decoder
        self.lin = nn.Linear(in_channels, hidden_channels)
        self.entity = (
            nn.Embedding(num_entities, hidden_channels)
            if entity_embedding
            else None
        )
        self.convs = nn.ModuleList(
            RGCNConv(
                hidden_channels,
                hidden_channels,
                2 * num_relations,
                num_bases=num_bases,
            )
            for _ in range(num_layers)
        )
        self.relation = nn.Embedding(2 * num_relations, hidden_channels)
        self.relation_lin = None
        if relation_x is not None:
            self._check_relation_x(relation_x, in_channels)
            self.register_buffer("relation_x", relation_x.float())
            self.relation_lin = nn.Linear(in_channels, hidden_channels)
        self.dropout = nn.Dropout(dropout)
        nn.init.normal_(self.relation.weight, std=0.1)
        if self.entity is not None:
            nn.init.normal_(self.entity.weight, std=0.1)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "RelationalLinkModel":
        """Rebuild from ``config`` (relation texts as zeros to be loaded)."""
        args = dict(config)
        relation_x = None
        if args.pop("relation_text", False):
            shape = (2 * args["num_relations"], args["in_channels"])
            relation_x = torch.zeros(shape)
        return cls(**args, relation_x=relation_x)

    def _check_relation_x(self, relation_x: Tensor, in_channels: int):
        want = [2 * self.num_relations, in_channels]
        if list(relation_x.shape) != want:
            raise ModelError(
                f"relation_x must have shape {want} (relations "
                "then their inverses; got "
                f"{list(relation_x.shape)})."
            )

    def forward(
        self, x: Tensor, edge_index: Tensor, edge_type: Tensor
    ) -> Tensor:
        """Entity embeddings ``[num_entities, hidden_channels]``.

        Args:
            x (Tensor): entity text features ``[num_entities, in]``.
            edge_index (Tensor): known triples as head-to-tail edges
                ``[2, M]`` (inverse edges are added here).
            edge_type (Tensor): relation id of each edge ``[M]``.
        """
        h = self.lin(x)
        if self.entity is not None:
            h = h + self.entity.weight
        edge_index, edge_type = add_inverse_edges(
            edge_index, edge_type, self.num_relations
        )
        for conv in self.convs:
            h = h + self.dropout(conv(h, edge_index, edge_type).relu())
        return self.dropout(h)

    def relation_embeddings(self) -> Tensor:
        """Relation vectors ``[2 * num_relations, hidden_channels]``."""
        rel = self.relation.weight
        if self.relation_lin is not None:
            rel = rel + self.relation_lin(self.relation_x)
        return rel

    def score_tails(self, z: Tensor, head: Tensor, relation: Tensor) -> Tensor:
        """Logits ``[B, num_entities]`` of every tail for ``(head, rel)``.

        Heads are scored as tails of the inverse relation
        ``relation + num_relations``.
        """
        query = z[head]
        rel = self.relation_embeddings()[relation]
        if self.decoder == "distmult":
            return (query * rel) @ z.t()
        q_re, q_im = query.chunk(2, -1)
        r_re, r_im = rel.chunk(2, -1)
        t_re, t_im = z.chunk(2, -1)
        real = q_re * r_re - q_im * r_im
        imag = q_re * r_im + q_im * r_re
        return real @ t_re.t() + imag @ t_im.t()

    def __repr__(self) -> str:
        c = self.config
        return (
            f"RelationalLinkModel({c['in_channels']}, entities="
            f"{c['num_entities']}, relations={c['num_relations']}, "
            f"hidden_channels={c['hidden_channels']}, num_layers="
            f"{c['num_layers']}, decoder={c['decoder']!r})"
        )


def kg_text_features(
    dataset: GraphDataset, encoder: Any, **encode_kwargs: Any
) -> tuple[Tensor, Tensor]:
    """Encode entity texts and relation texts (with their inverses).

    Args:
        dataset (GraphDataset): from :func:`gnnkit.data.knowledge.read_kg`.
        encoder (TextEncoder): the language-model encoder.
        **encode_kwargs: passed to ``encoder.encode`` (e.g. ``cache``).

    Returns:
        tuple: entity features ``[num_entities, d]`` and relation
        features ``[2 * num_relations, d]``; the inverse of relation
        ``"part of"`` is read as ``"inverse of part of"``.
    """
    relations = list(dataset.meta.get("relation_texts") or [])
    if not relations or dataset.texts is None:
        raise DataError(
            f"dataset '{dataset.name}' has no entity or relation texts; "
            "read it with gnnkit.data.knowledge.read_kg."
        )
    relations += [f"inverse of {text}" for text in relations]
    x = encoder.encode(dataset.texts[0], **encode_kwargs)
    relation_x = encoder.encode(relations, **encode_kwargs)
    return x, relation_x


register_kind(RelationalLinkModel.kind, RelationalLinkModel.from_config)
