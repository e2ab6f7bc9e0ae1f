import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.utils import scatter, to_dense_adj

from gnnkit.errors import DataError
from gnnkit.models.backbones import build_model
from gnnkit.train.batching import PackedGraphs
from gnnkit.train.tasks import forward_batch


def graph(num_nodes, edges, y=0):
    x = torch.arange(num_nodes * 3, dtype=torch.float).view(-1, 3) % 5
    edge_index = torch.tensor(edges, dtype=torch.long).view(-1, 2).t()
    return Data(x=x, edge_index=edge_index.contiguous(), y=torch.tensor([y]))


def graphs():
    """Undirected, directed (with a repeated edge and a self-loop), no
    edges, no nodes."""
    return [graph(3, [(0, 1), (1, 0), (1, 2), (2, 1)], 1),
            graph(4, [(0, 3), (3, 2), (2, 1), (2, 1), (1, 1)], 0),
            graph(2, [], 1), graph(0, [], 0),
            graph(3, [(2, 0), (0, 2)], 1)]


def dense(batch, matrix):
    return matrix.to_dense()[:batch.x.size(0), :batch.x.size(0)]


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_batch_adjacency_matches_edge_index(batch_size):
    order = torch.tensor([4, 1, 3, 0, 2])
    for batch in PackedGraphs(graphs()).batches(order, batch_size):
        n = batch.x.size(0)
        expected = to_dense_adj(batch.edge_index, max_num_nodes=n)[0] if n \
            else torch.zeros(0, 0)
        # A[i, j] counts edges j -> i; A^T is its transpose
        assert torch.equal(dense(batch, batch.adjacency.a), expected.t())
        assert torch.equal(dense(batch, batch.adjacency.a_t), expected)


@pytest.mark.parametrize("self_weight", [0.0, 2.5])
def test_neighbour_sum_and_gradient_equal_scatter(self_weight):
    batch = PackedGraphs(graphs()).select(torch.tensor([1, 0, 2]))
    src, dst = batch.edge_index
    x = torch.randn(batch.x.size(0), 4, requires_grad=True)
    weights = torch.randn(batch.x.size(0), 4)
    got = batch.adjacency.sum_neighbours(x, self_weight)
    expected = scatter(x[src], dst, 0, x.size(0), "sum") + self_weight * x
    assert torch.allclose(got, expected, atol=1e-6)
    grad_got, = torch.autograd.grad((got * weights).sum(), x)
    grad_expected, = torch.autograd.grad((expected * weights).sum(), x)
    assert torch.allclose(grad_got, grad_expected, atol=1e-6)
    # the directed graph makes A^T differ from A, so the gradient tests A^T
    assert not torch.equal(batch.adjacency.a.to_dense(),
                           batch.adjacency.a_t.to_dense())


def test_gin_with_adjacency_equals_gin_with_edge_index():
    batch = PackedGraphs(graphs()).select(torch.tensor([0, 1, 2, 3, 4]))
    torch.manual_seed(0)
    model = build_model("gin", 3, 2, hidden_channels=8, num_layers=3,
                        pooling="sum", dropout=0.0)
    assert model.uses_adjacency
    outs, grads = [], []
    for adjacency in (batch.adjacency, None):
        model.zero_grad()
        out = model(batch.x, batch.edge_index, batch.batch,
                    num_graphs=batch.num_graphs, adjacency=adjacency)
        out.pow(2).sum().backward()
        outs.append(out.detach())
        grads.append([p.grad.clone() for p in model.parameters()])
    assert outs[0].shape == (5, 2)
    assert torch.allclose(outs[0], outs[1], atol=1e-5)
    for got, expected in zip(*grads):
        assert torch.allclose(got, expected, atol=1e-5)


def test_forward_batch_gives_adjacency_only_to_models_using_it():
    batch = PackedGraphs(graphs()).select(torch.arange(5))
    seen = []

    class Recorder(torch.nn.Module):
        uses_adjacency = False

        def forward(self, x, edge_index, batch=None, **kwargs):
            seen.append(sorted(kwargs))
            return x

    forward_batch(Recorder(), batch)
    Recorder.uses_adjacency = True
    forward_batch(Recorder(), batch)
    assert "adjacency" not in seen[0] and "adjacency" in seen[1]
    gine = build_model("gin", 3, 2, edge_dim=2)
    assert not gine.uses_adjacency
    assert not build_model("gcn", 3, 2).uses_adjacency


@pytest.mark.parametrize("edges, match", [
    ([(0, 3)], r"graphs\[1\] has edge indices outside 0..2"),
    ([(-1, 0)], r"graphs\[1\] has edge indices outside 0..2"),
])
def test_packed_graphs_rejects_edges_outside_the_graph(edges, match):
    with pytest.raises(DataError, match=match):
        PackedGraphs([graph(2, [(0, 1)]), graph(3, edges)])


def test_packed_graphs_needs_edge_index():
    bad = Data(x=torch.zeros(2, 3), y=torch.tensor([0]))
    with pytest.raises(DataError, match=r"graphs\[1\] has no edge_index"):
        PackedGraphs([graph(2, []), bad])
