"""Batched, tiled inference: tiles join exactly, the OOM path shrinks the tile, the shared net is not touched."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colab.infer import InferOptions, Upscaler
from colab.models import load_network


@pytest.fixture(scope="module")
def anime() -> torch.nn.Module:
    return load_network("realesr-animevideov3")


def _frames(n: int, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:h, 0:w]
    base = ((xx * 3 + yy * 2) % 256).astype(np.float64)
    out = np.stack([np.stack([base, base[::-1], base[:, ::-1]], -1) for _ in range(n)])
    return np.clip(out + rng.normal(0, 8, out.shape), 0, 255).astype(np.uint8)


def test_batch_equals_one_by_one(anime: torch.nn.Module) -> None:
    up = Upscaler(anime, InferOptions(device="cpu"))
    frames = _frames(3, 20, 24)
    batch = up.upscale(frames)
    assert batch.shape == (3, 80, 96, 3) and batch.dtype == np.uint8
    singles = np.concatenate([up.upscale(frames[i:i + 1]) for i in range(3)])
    assert np.abs(batch.astype(int) - singles).max() <= 1


def test_tiles_with_the_receptive_radius_join_exactly(anime: torch.nn.Module) -> None:
    frames = _frames(2, 54, 96)
    whole = Upscaler(anime, InferOptions(device="cpu")).upscale(frames)
    tiled_up = Upscaler(anime, InferOptions(device="cpu", tile=32))
    tiled = tiled_up.upscale(frames)
    assert tiled_up.stats.tiles == 2 * 2 * 3
    assert np.abs(whole.astype(int) - tiled).max() <= 1


def test_small_memory_budget_shrinks_the_tile_and_finishes(anime: torch.nn.Module) -> None:
    frames = _frames(2, 54, 96)
    whole = Upscaler(anime, InferOptions(device="cpu")).upscale(frames)
    per_pixel = anime.bytes_per_pixel(4)
    # the chosen tile (96) is far over a budget that fits a 32-pixel tile (plus its 18-pixel context) of two frames
    up = Upscaler(anime, InferOptions(device="cpu", tile=96, memory_budget=2 * 70 * 70 * per_pixel))
    got = up.upscale(frames)
    assert up.stats.oom_retries >= 1 and up.tile < 96 and up.stats.tile_history == sorted(up.stats.tile_history,
                                                                                           reverse=True)
    assert np.abs(whole.astype(int) - got).max() <= 1


def test_auto_tile_comes_from_the_budget(anime: torch.nn.Module) -> None:
    per_pixel = anime.bytes_per_pixel(4)
    up = Upscaler(anime, InferOptions(device="cpu", memory_budget=60 * 60 * per_pixel))
    up.upscale(_frames(1, 54, 96))
    assert 0 < up.tile < 96 and up.stats.oom_retries == 0


def test_impossible_budget_raises_instead_of_looping(anime: torch.nn.Module) -> None:
    up = Upscaler(anime, InferOptions(device="cpu", memory_budget=10))
    with pytest.raises(torch.OutOfMemoryError):
        up.upscale(_frames(1, 54, 96))


def test_reduced_precision_uses_a_copy_of_the_shared_network(anime: torch.nn.Module) -> None:
    before = {k: v.clone() for k, v in anime.state_dict().items()}
    up = Upscaler(anime, InferOptions(device="cpu", dtype="bf16"))
    out = up.upscale(_frames(1, 16, 16))
    assert out.shape == (1, 64, 64, 3)
    assert all(v.dtype == torch.float32 and torch.equal(v, before[k]) for k, v in anime.state_dict().items())
    ref = Upscaler(anime, InferOptions(device="cpu")).upscale(_frames(1, 16, 16))
    assert np.abs(ref.astype(int) - out).mean() < 3


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        InferOptions(dtype="int8")
    with pytest.raises(ValueError):
        InferOptions(tile=8)
