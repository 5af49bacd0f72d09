"""An independent reference: the ncnn graph itself, run op by op in float64 numpy (no torch).

It follows the ``.param`` wiring (Split, Concat, Eltwise, BinaryOp, Interp, PixelShuffle, fused
activations) rather than our torch modules, so agreement proves the conversion, not a shared bug.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from colab.ncnn import Layer

Array = NDArray[np.float64]


def conv3x3(x: Array, weight: Array, bias: Array | None) -> Array:
    """(C, H, W) * (O, C, 3, 3), stride 1, zero padding 1."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    windows = sliding_window_view(padded, (3, 3), axis=(1, 2))  # C, H, W, 3, 3
    out = np.einsum("chwij,ocij->ohw", windows, weight, optimize=True)
    return out if bias is None else out + bias[:, None, None]


def _conv(layer: Layer, x: Array) -> Array:
    n_out, k = layer.get_int(0), layer.get_int(1)
    assert k == 3 and layer.get_int(4) == 1 and layer.get_int(3, 1) == 1
    weight = layer.weights[0].astype(np.float64).reshape(n_out, -1, k, k)
    bias = layer.weights[1].astype(np.float64) if layer.get_int(5) else None
    out = conv3x3(x, weight, bias)
    act = layer.get_int(9)
    if act == 1:
        out = np.maximum(out, 0)
    elif act == 2:
        slope = layer.get_floats(10)[0] if layer.get_floats(10) else 0.0
        out = np.where(out > 0, out, out * slope)
    elif act != 0:
        raise NotImplementedError(f"activation {act}")
    return out


def _interp(layer: Layer, x: Array) -> Array:
    assert layer.get_int(0) == 1, "nearest only"
    sh, sw = round(layer.get_float(1, 1.0)), round(layer.get_float(2, 1.0))
    return x.repeat(sh, axis=1).repeat(sw, axis=2)


def _pixel_shuffle(layer: Layer, x: Array) -> Array:
    r = layer.get_int(0)
    c, h, w = x.shape
    out = np.zeros((c // (r * r), h * r, w * r))
    for ch in range(c // (r * r)):
        for i in range(r):
            for j in range(r):
                out[ch, i::r, j::r] = x[ch * r * r + i * r + j]
    return out


def _eltwise(layer: Layer, xs: list[Array]) -> Array:
    assert layer.get_int(0) == 1, "sum only"
    coeffs = layer.get_floats(1) or [1.0] * len(xs)
    return sum((c * x for c, x in zip(coeffs, xs, strict=True)), np.zeros_like(xs[0]))


def run_graph(layers: list[Layer], image: Array) -> Array:
    """Run the graph on one (3, H, W) image in [0, 1]; returns the blob named ``output``."""
    blobs: dict[str, Array] = {}
    for layer in layers:
        ins = [blobs[b] for b in layer.bottoms]
        if layer.kind == "Input":
            outs = [image.astype(np.float64)]
        elif layer.kind == "Split":
            outs = [ins[0]] * len(layer.tops)
        elif layer.kind == "Convolution":
            outs = [_conv(layer, ins[0])]
        elif layer.kind == "PReLU":
            slope = layer.weights[0].astype(np.float64)[:, None, None]
            outs = [np.where(ins[0] > 0, ins[0], ins[0] * slope)]
        elif layer.kind == "Concat":
            outs = [np.concatenate(ins, axis=0)]
        elif layer.kind == "Eltwise":
            outs = [_eltwise(layer, ins)]
        elif layer.kind == "BinaryOp":
            assert layer.get_int(0) == 0, "add only"
            outs = [ins[0] + ins[1]]
        elif layer.kind == "Interp":
            outs = [_interp(layer, ins[0])]
        elif layer.kind == "PixelShuffle":
            outs = [_pixel_shuffle(layer, ins[0])]
        else:
            raise NotImplementedError(layer.kind)
        blobs.update(zip(layer.tops, outs, strict=True))
    return blobs["output"]
