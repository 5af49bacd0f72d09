"""Batched inference: uint8 frames in, uint8 frames out, tiled with overlap when a frame does not fit.

The tile comes from the free device memory (or ``memory_budget``); an out-of-memory error halves the
tile and retries the batch, down to ``MIN_TILE``, so a busy GPU slows down instead of crashing::

    up = Upscaler(load_network("realesr-animevideov3"), InferOptions(device="cuda"))
    big = up.upscale(frames)          # (N, H, W, 3) uint8 numpy -> (N, 4H, 4W, 3) uint8 numpy
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from colab.nets import Network

MIN_TILE = 32
DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


@dataclass(frozen=True)
class InferOptions:
    device: str = "auto"          # auto | cuda | cuda:N | mps | cpu
    dtype: str = "auto"           # auto (fp16 on cuda/mps, fp32 on cpu) | fp16 | bf16 | fp32
    tile: int = 0                 # input-pixel tile side; 0 = whole frame when it fits, else from memory
    tile_pad: int = 18            # SRVGG's receptive radius: tiles of the compact nets join exactly
    channels_last: bool = True
    compile: bool = False         # torch.compile the network (CUDA; pays off on long runs)
    memory_budget: int | None = None  # bytes the activations may use (None: free device memory)

    def __post_init__(self) -> None:
        if self.dtype not in ("auto", *DTYPES):
            raise ValueError("dtype must be auto, fp16, bf16 or fp32")
        if self.tile and self.tile < MIN_TILE:
            raise ValueError(f"tile must be 0 or at least {MIN_TILE}")
        if self.tile_pad < 0:
            raise ValueError("tile_pad must be >= 0")


@dataclass
class InferStats:
    frames: int = 0
    tiles: int = 0
    oom_retries: int = 0
    tile_history: list[int] = field(default_factory=list)


def pick_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


class SimulatedOutOfMemoryError(torch.OutOfMemoryError):
    """Raised when a forward pass would exceed ``memory_budget`` (the OOM path, testable on a CPU)."""


class Upscaler:
    """One network on one device, loaded once and called for every batch."""

    def __init__(self, net: Network, options: InferOptions | None = None) -> None:
        self.options = options or InferOptions()
        self.device = pick_device(self.options.device)
        dtype = self.options.dtype
        if dtype == "auto":
            dtype = "fp16" if self.device.type in ("cuda", "mps") else "fp32"
        self.dtype = DTYPES[dtype]
        self.scale = int(net.upscale)
        self._bpp = net.bytes_per_pixel(torch.finfo(self.dtype).bits // 8)
        # a copy: converting the caller's (possibly shared) network in place would change it for everyone
        model = copy.deepcopy(net).to(self.device, self.dtype).eval().requires_grad_(False)
        if self.options.channels_last:
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self._forward: Any = torch.compile(model, dynamic=True) if self.options.compile else model
        self.tile = self.options.tile
        self.stats = InferStats()

    def _budget(self) -> int:
        if self.options.memory_budget is not None:
            return self.options.memory_budget
        if self.device.type == "cuda":
            free, _total = torch.cuda.mem_get_info(self.device)
            return int(free * 0.7)
        return 1 << 62  # host memory: the whole frame

    def _auto_tile(self, n: int, h: int, w: int) -> int:
        budget = self._budget()
        if n * h * w * self._bpp <= budget:
            return 0
        side = int(math.sqrt(budget / (n * self._bpp))) - 2 * self.options.tile_pad
        return max(MIN_TILE, side // 8 * 8)

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        n, _c, h, w = x.shape
        if self.options.memory_budget is not None and n * h * w * self._bpp > self.options.memory_budget:
            raise SimulatedOutOfMemoryError(f"{n}x{h}x{w} needs {n * h * w * self._bpp} bytes")
        if self.options.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        out: torch.Tensor = self._forward(x)
        return out

    @torch.inference_mode()
    def upscale(self, frames: NDArray[np.uint8] | torch.Tensor) -> NDArray[np.uint8]:
        """``(N, H, W, 3)`` uint8 -> ``(N, sH, sW, 3)`` uint8 (RGB); see the module docstring."""
        return self.upscale_tensor(self.to_device(frames)).cpu().numpy()

    def to_device(self, frames: NDArray[np.uint8] | torch.Tensor) -> torch.Tensor:
        """uint8 frames to the device as uint8 (4x less traffic than float), NHWC."""
        t = torch.from_numpy(np.ascontiguousarray(frames)) if isinstance(frames, np.ndarray) else frames
        if self.device.type == "cuda":
            t = t.pin_memory()
        return t.to(self.device, non_blocking=True)

    @torch.inference_mode()
    def upscale_tensor(self, frames: torch.Tensor) -> torch.Tensor:
        """Device uint8 ``(N, H, W, 3)`` -> device uint8 ``(N, sH, sW, 3)``."""
        x = frames.permute(0, 3, 1, 2).to(self.dtype).div_(255)
        n, _c, h, w = x.shape
        if self.tile == 0:
            self.tile = self.options.tile or self._auto_tile(n, h, w)
        while True:
            try:
                y = self._tiled(x) if self.tile and (h > self.tile or w > self.tile) else self._whole(x)
                break
            except torch.OutOfMemoryError:
                self._shrink(h, w)
        self.stats.frames += n
        return y.clamp_(0, 1).mul_(255).round_().to(torch.uint8).permute(0, 2, 3, 1).contiguous()

    def _shrink(self, h: int, w: int) -> None:
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        current = self.tile or max(h, w)
        if current <= MIN_TILE:
            raise torch.OutOfMemoryError(f"out of memory even with {MIN_TILE}-pixel tiles")
        self.tile = max(MIN_TILE, current // 2 // 8 * 8)
        self.stats.oom_retries += 1
        self.stats.tile_history.append(self.tile)

    def _whole(self, x: torch.Tensor) -> torch.Tensor:
        self.stats.tiles += x.shape[0]
        return self._run(x)

    def _tiled(self, x: torch.Tensor) -> torch.Tensor:
        """Real-ESRGAN's tile scheme: each tile with ``tile_pad`` of context, only its core kept."""
        n, c, h, w = x.shape
        s, t, pad = self.scale, self.tile, self.options.tile_pad
        out = torch.empty((n, c, h * s, w * s), dtype=x.dtype, device=x.device)
        for y0 in range(0, h, t):
            for x0 in range(0, w, t):
                y1, x1 = min(y0 + t, h), min(x0 + t, w)
                py0, px0, py1, px1 = max(y0 - pad, 0), max(x0 - pad, 0), min(y1 + pad, h), min(x1 + pad, w)
                part = self._run(x[:, :, py0:py1, px0:px1])
                oy, ox = (y0 - py0) * s, (x0 - px0) * s
                out[:, :, y0 * s:y1 * s, x0 * s:x1 * s] = part[:, :, oy:oy + (y1 - y0) * s, ox:ox + (x1 - x0) * s]
                self.stats.tiles += n
        return out
