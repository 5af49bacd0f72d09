"""Embedder: the packaged all-MiniLM-L6-v2, loaded offline; normalised vectors, cache, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media.embed import Embedder, default_model_dir
from media.errors import ModelError


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(batch_size=4)


def test_vectors_are_normalised_float32(embedder: Embedder) -> None:
    vecs = embedder.encode(["a lighthouse keeper", "a storm at sea", "", "x " * 600])
    assert vecs.shape == (4, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


@pytest.mark.parametrize(("query", "close", "far"), [
    ("The ship's engine failed and it drifts toward the rocks.", "Mayday, our engine is dead, we are drifting.",
     "Grandma baked bread for the village festival."),
    ("A detective suspects the butler of stealing the necklace.", "Only the butler had the key to the safe.",
     "The avalanche buried the mountain road."),
])
def test_paraphrases_are_closer_than_unrelated_text(embedder: Embedder, query: str, close: str, far: str) -> None:
    q, c, f = embedder.encode([query, close, far])
    assert float(q @ c) > float(q @ f) + 0.1


def test_cache_returns_the_same_vectors_in_any_batch(embedder: Embedder) -> None:
    texts = ["one line", "another  line", "one line"]
    first = embedder.encode(texts)
    again = embedder.encode(["another line", "one line"])   # whitespace is normalised before the cache
    assert np.array_equal(first[0], first[2])
    assert np.allclose(again[0], first[1]) and np.allclose(again[1], first[0])
    uncached = Embedder(cache_size=0).encode(texts)
    assert np.allclose(uncached, first, atol=1e-5)


def test_default_model_ships_in_the_package() -> None:
    assert (default_model_dir() / "config.json").is_file()


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as info:
        Embedder(tmp_path / "nowhere")
    assert info.value.code == "MODEL_UNAVAILABLE"
    bad = tmp_path / "broken"
    bad.mkdir()
    (bad / "config.json").write_text("{not json")
    with pytest.raises(ModelError):
        Embedder(bad)


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"cache_size": -1}])
def test_arguments_are_validated(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Embedder(**kwargs)  # type: ignore[arg-type]
