import pytest
import torch
from torch import nn
from torch_geometric.data import Data

from gnnkit.data.dataset import GraphDataset
from gnnkit.errors import DataError
from gnnkit.evaluate.ranking import (
    answer_sets,
    filter_mask,
    filtered_ranks,
    hits_at_k,
    link_auc,
    mean_reciprocal_rank,
    ranking_metrics,
    recommend,
    top_triples,
)
from gnnkit.models.link import DotProductDecoder, LinkModel
from gnnkit.testing.kg import TableModel, triple_graph
from gnnkit.train.kg_tasks import KGTask

# Three queries over five candidates, worked out by hand:
#   q0: target 2 (0.5); 1 and 3 score 0.9; 1 is another known answer, so
#       raw rank 3, filtered rank 2.
#   q1: target 0 (0.7) tied with 2 (0.7): rank 1 + 0 + 1/2 = 1.5 either way.
#   q2: target 0 (0.2); 1, 2, 3 are known answers, only 4 (0.6) is left
#       above it: raw rank 5, filtered rank 2.
SCORES = torch.tensor(
    [
        [0.1, 0.9, 0.5, 0.9, 0.3],
        [0.7, 0.2, 0.7, 0.1, 0.0],
        [0.2, 0.3, 0.4, 0.5, 0.6],
    ]
)
TARGET = torch.tensor([2, 0, 0])
TRIPLES = torch.tensor(
    [
        [0, 0, 1],
        [0, 0, 2],  # query (0, r0): answers 1 and 2
        [1, 1, 0],
        [1, 1, 4],  # query (1, r1): answers 0 and 4
        [2, 0, 0],
        [2, 0, 1],
        [2, 0, 2],
        [2, 0, 3],
    ]
)
QUERIES = torch.tensor([[0, 0], [1, 1], [2, 0]])


def test_filtered_ranks_hand_made_matrix():
    known = filter_mask(QUERIES, answer_sets([TRIPLES[:5], TRIPLES[5:]]), 5)
    assert known.tolist() == [
        [False, True, True, False, False],
        [True, False, False, False, True],
        [True, True, True, True, False],
    ]
    ranks = filtered_ranks(SCORES, TARGET, known)
    assert ranks.tolist() == [2.0, 1.5, 2.0]
    assert filtered_ranks(SCORES, TARGET).tolist() == [3.0, 1.5, 5.0]


def test_ranking_metrics_hand_made_values():
    ranks = torch.tensor([2.0, 1.5, 2.0])
    out = ranking_metrics(ranks, ks=(1, 2, 3))
    assert out["mrr"] == pytest.approx((1 / 2 + 2 / 3 + 1 / 2) / 3)
    assert out["mean_rank"] == pytest.approx(5.5 / 3)
    assert (out["hits@1"], out["hits@2"], out["hits@3"]) == (0.0, 1.0, 1.0)
    assert out["count"] == 3
    assert hits_at_k(ranks, 1) == 0.0
    assert mean_reciprocal_rank(ranks) == pytest.approx(out["mrr"])


def test_filtered_ranks_constant_scorer_gets_middle_rank():
    ranks = filtered_ranks(torch.zeros(2, 4), torch.tensor([0, 3]))
    assert ranks.tolist() == [2.5, 2.5]


def test_answer_sets_merges_splits():
    answers = answer_sets([TRIPLES[:1], TRIPLES[1:2]])
    assert answers == {(0, 0): [1, 2]}


def test_link_auc_exact_value():
    out = link_auc(torch.tensor([0.9, 0.4]), torch.tensor([0.5, 0.1, 0.3]))
    assert out["roc_auc"] == pytest.approx(5 / 6)
    assert (out["num_pos"], out["num_neg"]) == (2, 3)


def test_link_auc_and_ranking_metrics_need_input():
    with pytest.raises(ValueError, match="0 negative"):
        link_auc(torch.tensor([0.3]), torch.tensor([]))
    with pytest.raises(ValueError, match="at least one rank"):
        ranking_metrics(torch.tensor([]))


class Passthrough(nn.Module):
    """Encoder stand-in: the node features are the embeddings."""

    def forward(self, x, edge_index, edge_weight=None):
        return x


def test_recommend_ranks_unlinked_nodes_by_score():
    x = torch.tensor(
        [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [2.0, 0.0], [0.0, 0.5]]
    )
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    dataset = GraphDataset(
        [Data(x=x, edge_index=edge_index)],
        level="node",
        node_ids=[list("abcde")],
        texts=[["A", "B", "C", "D", "E"]],
    )
    model = LinkModel(Passthrough(), DotProductDecoder(), {})
    top = recommend(model, dataset, "b", k=5)
    # b scores a 1, c 1, d 2, e 0.5; a and c are already linked.
    assert [t["id"] for t in top] == ["d", "e"]
    assert [t["text"] for t in top] == ["D", "E"]
    assert top[0]["score"] == pytest.approx(
        torch.sigmoid(torch.tensor(2.0)).item()
    )
    assert [
        t["id"] for t in recommend(model, dataset, "b", k=1, exclude=[3])
    ] == ["e"]
    with pytest.raises(DataError, match="node 'z' is not in dataset"):
        recommend(model, dataset, "z")


def test_top_triples_skips_training_triples_and_flags_held_out():
    train = torch.tensor([[0, 0, 1], [0, 1, 2]])
    data = triple_graph(train, torch.tensor([[0, 0, 3]]),
                        torch.tensor([[1, 0, 2]]))
    dataset = GraphDataset(
        [data],
        level="node",
        node_ids=[list("abcd")],
        texts=[["A", "B", "C", "D"]],
        meta={
            "relations": ["r0", "r1"],
            "relation_texts": ["zero", "one"],
            "num_relations": 2,
        },
    )
    table = torch.zeros(16, 4)
    table[0] = torch.tensor([0.0, 3.0, 1.0, 2.0])  # (a, r0, ?)
    table[4] = torch.tensor([0.0, 0.0, 5.0, 0.0])  # (a, r1, ?)
    task = KGTask(dataset, torch.zeros(4, 1))
    top = top_triples(TableModel(table), task, 0, k=3, dataset=dataset)
    probs = torch.tensor([0.0, 3.0, 1.0, 2.0]).softmax(-1)
    assert [(t["relation_id"], t["tail_id"]) for t in top] == [
        ("r0", "d"),
        ("r0", "c"),
        ("r0", "a"),
    ]
    assert [t["probability"] for t in top] == pytest.approx(
        probs[[3, 2, 0]].tolist()
    )
    assert [t["held_out"] for t in top] == [True, False, False]
    assert top[0]["tail_text"] == "D" and top[0]["relation_text"] == "zero"
