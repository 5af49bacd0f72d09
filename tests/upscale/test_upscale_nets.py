"""The networks and the ncnn conversion, checked against an independent numpy run of the ncnn graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from colab.models import MODELS, available_models, load_network, ncnn_files
from colab.ncnn import NcnnFormatError, read_graph
from colab.nets import RRDBNet, SRVGGNetCompact, official_state_dict
from tests.upscale.ncnn_reference import run_graph

PACKAGED = ["realesr-animevideov3", "RealESRGAN_x4plus_anime_6B", "RealESRGAN_x4plus"]


def _image(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx / w), (yy / h), ((xx + yy) % 5) / 5.0])
    return np.clip(base + 0.03 * rng.standard_normal((3, h, w)), 0, 1)


def test_every_packaged_model_is_available() -> None:
    assert sorted(available_models()) == sorted(PACKAGED)


@pytest.mark.parametrize("name", PACKAGED)
def test_converted_network_equals_the_ncnn_graph_run_in_numpy(name: str) -> None:
    param, bin_ = ncnn_files(name)
    layers = read_graph(param, bin_)
    image = _image(6, 7) if "x4plus" in name else _image(12, 10)
    ref = run_graph(layers, image)
    with torch.no_grad():
        got = load_network(name)(torch.from_numpy(image).float()[None])[0].double().numpy()
    assert got.shape == ref.shape == (3, image.shape[1] * 4, image.shape[2] * 4)
    assert np.abs(got - ref).max() < 2e-4
    # and the output is a plausible upscale of the input, not noise
    assert np.abs(got.reshape(3, image.shape[1], 4, image.shape[2], 4).mean((2, 4)) - image).mean() < 0.15


def test_srvgg_is_pixel_shuffle_plus_nearest_residual_on_a_known_image() -> None:
    net = load_network("realesr-animevideov3")
    last = net.body[-1]
    assert isinstance(last, torch.nn.Conv2d)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.arange(48, dtype=torch.float32) / 100)
        image = torch.from_numpy(_image(5, 6)).float()[None]
        out = net(image)[0]
    base = image[0].repeat_interleave(4, 1).repeat_interleave(4, 2)
    expected_bias = torch.zeros(3, 20, 24)
    for c in range(3):
        for i in range(4):
            for j in range(4):
                expected_bias[c, i::4, j::4] = (c * 16 + i * 4 + j) / 100
    assert torch.allclose(out, base + expected_bias, atol=1e-6)


def test_official_pth_checkpoints_load_unchanged(tmp_path: Path) -> None:
    converted = load_network("realesr-animevideov3")
    path = tmp_path / "realesr-animevideov3.pth"
    torch.save({"params": converted.state_dict()}, path)
    loaded = load_network("realesr-animevideov3", path)
    x = torch.rand(1, 3, 9, 9)
    with torch.no_grad():
        assert torch.equal(loaded(x), converted(x))
    # params_ema wins over params, as upstream's loader does
    ema = {k: torch.zeros_like(v) for k, v in converted.state_dict().items()}
    assert all(torch.equal(official_state_dict({"params": {}, "params_ema": ema})[k], v) for k, v in ema.items())


def test_general_x4v3_and_upstream_names() -> None:
    general = MODELS["realesr-general-x4v3"].build()
    assert isinstance(general, SRVGGNetCompact)
    names = list(general.state_dict())
    assert names[:3] == ["body.0.weight", "body.0.bias", "body.1.weight"] and names[-1] == "body.66.bias"
    rrdb = RRDBNet(num_block=1)
    assert {"conv_first.weight", "body.0.rdb1.conv1.weight", "body.0.rdb3.conv5.bias", "conv_body.weight",
            "conv_up1.weight", "conv_up2.weight", "conv_hr.weight", "conv_last.bias"} <= set(rrdb.state_dict())


def test_truncated_or_foreign_ncnn_weights_are_refused(tmp_path: Path) -> None:
    param, bin_ = ncnn_files("realesr-animevideov3")
    short = tmp_path / "short.bin"
    short.write_bytes(bin_.read_bytes()[:-8])
    with pytest.raises(NcnnFormatError):
        read_graph(param, short)
    x4plus_param, _ = ncnn_files("RealESRGAN_x4plus_anime_6B")
    with pytest.raises(NcnnFormatError):
        load_network("realesr-animevideov3", x4plus_param)
