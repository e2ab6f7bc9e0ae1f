import pytest
import torch

from gnnkit.models.link import (
    DotProductDecoder,
    MLPDecoder,
    build_link_model,
)

# A 5-node path 0-1-2-3-4, both directions.
EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])
PAIRS = torch.tensor([[0, 1, 4], [2, 3, 0]])


def test_dot_product_decoder_exact_scores():
    z = torch.tensor(
        [[1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [1.0, 1.0], [-1.0, 0.5]]
    )
    decoder = DotProductDecoder()
    assert decoder(z, PAIRS).tolist() == [3.0, 2.0, -1.0]
    all_scores = decoder.score_all(z, torch.tensor([0, 4]))
    assert all_scores.shape == (2, 5)
    assert all_scores[0].tolist() == [1.0, 0.0, 3.0, 1.0, -1.0]


@pytest.mark.parametrize("decoder", ["dot", "mlp"])
def test_build_link_model_shapes(decoder):
    torch.manual_seed(0)
    model = build_link_model(
        "gcn", 3, out_channels=4, hidden_channels=8, decoder=decoder
    )
    x = torch.randn(5, 3)
    out = model(x, EDGE_INDEX, PAIRS)
    assert out.shape == (3,)
    z = model.encode(x, EDGE_INDEX)
    assert z.shape == (5, 4)
    assert model.decoder.score_all(z, torch.tensor([1])).shape == (1, 5)
    assert torch.allclose(
        model.decoder.score_all(z, PAIRS[0])[torch.arange(3), PAIRS[1]],
        out,
        atol=1e-6,
    )
    assert model.config["decoder"] == decoder
    assert repr(model) == (
        f"LinkModel(encoder='gcn', in_channels=3, "
        f"out_channels=4, decoder='{decoder}')"
    )


def test_mlp_decoder_is_symmetric():
    torch.manual_seed(0)
    decoder = MLPDecoder(4, 8)
    z = torch.randn(5, 4)
    assert torch.allclose(decoder(z, PAIRS), decoder(z, PAIRS.flip(0)))


def test_build_link_model_rejects_unknown_decoder():
    with pytest.raises(ValueError, match="decoder must be one of"):
        build_link_model("gcn", 3, decoder="cosine")


def test_link_model_survives_save_and_load(tmp_path):
    from gnnkit.models.persist import load_model, save_model

    torch.manual_seed(0)
    x = torch.randn(5, 3)
    link = build_link_model("gcn", 3, out_channels=4, decoder="mlp").eval()
    save_model(tmp_path / "link", link)
    loaded, _ = load_model(tmp_path / "link")
    assert torch.allclose(
        loaded.eval()(x, EDGE_INDEX, PAIRS), link(x, EDGE_INDEX, PAIRS)
    )


def test_link_model_normalize_input_ignores_feature_scale():
    torch.manual_seed(0)
    model = build_link_model("gcn", 3, out_channels=4).eval()
    x = torch.randn(5, 3)
    assert torch.allclose(
        model(x, EDGE_INDEX, PAIRS),
        model(10 * x, EDGE_INDEX, PAIRS),
        atol=1e-5,
    )
