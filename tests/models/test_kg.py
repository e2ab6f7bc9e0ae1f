import pytest
import torch

from gnnkit.errors import ModelError
from gnnkit.models.kg import RelationalLinkModel, add_inverse_edges
from gnnkit.models.persist import load_model, save_model

# A 5-node path 0-1-2-3-4, both directions.
EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])
PAIRS = torch.tensor([[0, 1, 4], [2, 3, 0]])


def test_add_inverse_edges_types():
    edge_index = torch.tensor([[0, 1], [2, 0]])
    edge_type = torch.tensor([1, 0])
    ei, et = add_inverse_edges(edge_index, edge_type, num_relations=3)
    assert ei.tolist() == [[0, 1, 2, 0], [2, 0, 0, 1]]
    assert et.tolist() == [1, 0, 4, 3]


def kg_model(decoder, **kwargs):
    torch.manual_seed(0)
    return RelationalLinkModel(
        6,
        5,
        2,
        relation_x=torch.randn(4, 6),
        hidden_channels=8,
        num_layers=1,
        decoder=decoder,
        **kwargs,
    )


@pytest.mark.parametrize("decoder", ["distmult", "complex"])
def test_relational_link_model_shapes(decoder):
    model = kg_model(decoder).eval()
    z = model(torch.randn(5, 6), EDGE_INDEX, torch.tensor([0, 1] * 4))
    assert z.shape == (5, 8)
    scores = model.score_tails(
        z, torch.tensor([0, 3, 2]), torch.tensor([0, 1, 3])
    )
    assert scores.shape == (3, 5)
    assert model.relation_embeddings().shape == (4, 8)


def test_relational_link_model_decoder_formulas():
    z = torch.randn(5, 8)
    head, rel = torch.tensor([1]), torch.tensor([2])
    model = kg_model("complex").eval()
    r = model.relation_embeddings()[2]
    as_complex = lambda v: torch.complex(*v.chunk(2, -1))  # noqa: E731
    expected = as_complex(z[1]) * as_complex(r) * as_complex(z).conj()
    assert torch.allclose(
        model.score_tails(z, head, rel)[0], expected.sum(-1).real, atol=1e-5
    )
    model = kg_model("distmult").eval()
    scores = model.score_tails(z, torch.tensor([1, 3]), torch.tensor([0, 0]))
    assert torch.isclose(scores[0, 3], scores[1, 1])  # DistMult symmetry


def test_relational_link_model_checks_relation_x_and_width():
    with pytest.raises(
        ModelError,
        match=r"relation_x must have shape "
        r"\[4, 6\]",
    ):
        RelationalLinkModel(6, 5, 2, relation_x=torch.randn(2, 6))
    with pytest.raises(ValueError, match="even hidden_channels"):
        RelationalLinkModel(6, 5, 2, hidden_channels=7)


def test_relational_link_model_survives_save_and_load(tmp_path):
    kg = kg_model("complex").eval()
    save_model(tmp_path, kg)
    loaded, _ = load_model(tmp_path)
    edge_type = torch.tensor([0, 1] * 4)
    z = kg(torch.randn(5, 6), EDGE_INDEX, edge_type)
    assert torch.allclose(
        loaded.relation_embeddings(), kg.relation_embeddings()
    )
    assert torch.allclose(
        loaded.score_tails(z, PAIRS[0], PAIRS[1]),
        kg.score_tails(z, PAIRS[0], PAIRS[1]),
    )
