import pytest
import torch

from gnnkit.models.heads import GraphHead, NodeHead, check_pooling, pool

X = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, -6.0]])
BATCH = torch.tensor([0, 0, 2])


@pytest.mark.parametrize("pooling, rows", [
    ("sum", [[4.0, 6.0], [0.0, 0.0], [5.0, -6.0], [0.0, 0.0]]),
    ("mean", [[2.0, 3.0], [0.0, 0.0], [5.0, -6.0], [0.0, 0.0]]),
    ("max", [[3.0, 4.0], [0.0, 0.0], [5.0, -6.0], [0.0, 0.0]]),
])
def test_pool_empty_graphs_get_zero_rows(pooling, rows):
    out = pool(X, BATCH, pooling, num_graphs=4)
    assert out.shape == (4, 2)
    assert torch.equal(out, torch.tensor(rows))


def test_pool_without_batch_is_one_graph():
    out = pool(X, None, "sum")
    assert torch.equal(out, torch.tensor([[9.0, 0.0]]))


def test_pool_infers_num_graphs_from_batch():
    assert pool(X, BATCH, "mean").shape == (3, 2)


def test_check_pooling_unknown_name():
    with pytest.raises(ValueError, match="pooling must be one of"):
        check_pooling("median")


def test_graph_head_maps_to_classes():
    torch.manual_seed(0)
    head = GraphHead(2, 8, 3, dropout=0.5).eval()
    out = head(X)
    assert out.shape == (3, 3)
    expected = head.lin2(head.lin1(X).relu())
    assert torch.allclose(out, expected)


def test_node_head_is_linear_in_eval():
    head = NodeHead(2, 1, dropout=0.9).eval()
    with torch.no_grad():
        head.lin.weight.copy_(torch.tensor([[1.0, -1.0]]))
        head.lin.bias.fill_(0.5)
    assert torch.equal(head(X).view(-1), torch.tensor([-0.5, -0.5, 11.5]))
