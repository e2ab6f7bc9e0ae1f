"""A knowledge-graph stand-in for tests: tail scores read from a table,
and the graph that holds the triples."""

from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.data import Data


class TableModel(nn.Module):
    """Scores the tails of query (entity ``e``, relation ``r``) with row
    ``e + 4 r`` of ``table`` (so 4 entities per relation)."""

    def __init__(self, table: Tensor) -> None:
        super().__init__()
        self.table = table

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_type: Tensor) -> Tensor:
        """No encoder: the node features pass through."""
        return x

    def score_tails(self, z: Tensor, head: Tensor,
                    relation: Tensor) -> Tensor:
        """The table rows of the queries."""
        return self.table[head + 4 * relation]


def triple_graph(train: Tensor, valid: Tensor, test: Tensor,
                 num_nodes: int = 4) -> Data:
    """A graph whose edges are the training triples (head, relation,
    tail), with the three splits attached as ``KGTask`` reads them."""
    return Data(
        num_nodes=num_nodes,
        edge_index=train[:, [0, 2]].t(),
        edge_type=train[:, 1],
        train_triples=train,
        valid_triples=valid,
        test_triples=test,
    )
