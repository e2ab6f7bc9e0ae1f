import pytest
import torch

from gnnkit.testing.tiny_lm import tiny_bert
from gnnkit.text.cache import EmbeddingCache, cache_key, default_cache_dir
from gnnkit.text.encoder import TextEncoder

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = ["graph pooling", "message passing", "NA", "", "citation networks"]


def counting(encoder, monkeypatch):
    """Record every text the language model actually encodes."""
    seen = []
    original = encoder._encode_batch

    def spy(texts):
        seen.extend(texts)
        return original(texts)

    monkeypatch.setattr(encoder, "_encode_batch", spy)
    return seen


def test_cache_repeated_run_encodes_nothing(bert_path, tmp_path, monkeypatch):
    encoder = TextEncoder(bert_path)
    seen = counting(encoder, monkeypatch)
    first = encoder.encode(TEXTS, cache=tmp_path, progress_bar=False)
    assert sorted(seen) == sorted(TEXTS)
    cache = EmbeddingCache(tmp_path)
    second = encoder.encode(TEXTS, cache=cache, progress_bar=False)
    assert len(seen) == 5
    assert (cache.hits, cache.misses) == (5, 0)
    assert torch.equal(first, second)


def test_cache_changed_text_reencodes_only_that_node(
    bert_path, tmp_path, monkeypatch
):
    encoder = TextEncoder(bert_path)
    cache = EmbeddingCache(tmp_path)
    first = encoder.encode(TEXTS, cache=cache, progress_bar=False)
    seen = counting(encoder, monkeypatch)
    changed = TEXTS[:2] + ["not applicable"] + TEXTS[3:]
    second = encoder.encode(changed, cache=cache, progress_bar=False)
    assert seen == ["not applicable"]
    assert (cache.hits, cache.misses) == (4, 6)
    assert torch.equal(first[[0, 1, 3, 4]], second[[0, 1, 3, 4]])
    fresh = encoder.encode(["not applicable"], progress_bar=False)
    assert torch.allclose(second[2], fresh[0], atol=1e-6)


@pytest.mark.parametrize(
    "change", [{"pooling": "max"}, {"max_length": 16}, {"seed": 1}]
)
def test_cache_invalidated_by_encoder_change(
    bert_path, tmp_path, monkeypatch, change
):
    TextEncoder(bert_path).encode(TEXTS, cache=tmp_path, progress_bar=False)
    path = bert_path
    if "seed" in change:
        path = tiny_bert(tmp_path / "other", seed=change.pop("seed"))
    encoder = TextEncoder(path, **change)
    seen = counting(encoder, monkeypatch)
    cache = EmbeddingCache(tmp_path)
    encoder.encode(TEXTS, cache=cache, progress_bar=False)
    assert sorted(seen) == sorted(TEXTS)
    assert (cache.hits, cache.misses) == (0, 5)


def test_cache_get_put_round_trip(tmp_path):
    cache = EmbeddingCache(tmp_path)
    rows = torch.arange(6.0).view(3, 2)
    cache.put_many("enc", ["a", "b", "c"], rows)
    found, missing = EmbeddingCache(tmp_path).get_many("enc", ["c", "z", "a"])
    assert missing == [1]
    assert torch.equal(found[0], rows[2]) and torch.equal(found[2], rows[0])
    assert EmbeddingCache(tmp_path).get_many("other", ["a"])[1] == [0]
    assert len(list(tmp_path.glob("emb-*.safetensors"))) == 1
    assert len(list(tmp_path.glob(".tmp-*"))) == 0
    assert cache_key("enc", "a") != cache_key("enc", "b")


def test_cache_put_many_shape_mismatch_raises(tmp_path):
    with pytest.raises(ValueError, match=r"must be \[len\(texts\), d\]"):
        EmbeddingCache(tmp_path).put_many("enc", ["a"], torch.zeros(2, 3))


def test_cache_damaged_shard_is_ignored_with_warning(tmp_path):
    EmbeddingCache(tmp_path).put_many("enc", ["a"], torch.ones(1, 2))
    (tmp_path / "emb-broken.safetensors").write_bytes(b"not a shard")
    cache = EmbeddingCache(tmp_path)
    with pytest.warns(UserWarning, match="unreadable cache shard"):
        found, missing = cache.get_many("enc", ["a", "b"])
    assert list(found) == [0] and missing == [1]


def test_cache_default_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("GNNKIT_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_cache_dir() == tmp_path / ".gnnkit_cache"
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path / "elsewhere"))
    assert EmbeddingCache().directory == tmp_path / "elsewhere"


def test_cache_clear_and_repr(tmp_path):
    cache = EmbeddingCache(tmp_path)
    cache.put_many("enc", ["a", "b"], torch.zeros(2, 4))
    cache.get_many("enc", ["a"])
    assert repr(cache) == (
        f"EmbeddingCache('{tmp_path}', entries=2, hits=1, misses=0)"
    )
    cache.clear()
    assert len(cache) == 0 and cache.hits == 0
    assert cache.get_many("enc", ["a"])[1] == [0]
