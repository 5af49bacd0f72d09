"""Optional visual evidence for alignment: a CLIP/SigLIP-style image-text model on shot keyframes.

No such weights ship in any package this project installs: the option is off unless a local model
folder (a transformers ``CLIPModel``/``SiglipModel`` directory with its tokenizer and image processor)
is configured. The loading code is real and tested with a tiny randomly initialised model.

    vis = VisualScorer("/models/clip-vit-b32")
    keys = keyframes("movie.mp4", shots)                 # one RGB frame per shot (its middle)
    ev = vis.evidence(script_texts, keys, [(s.start, s.end) for s in shots], offset=0.0)
    align(script, [src], AlignOptions(visual_weight=0.5), visual=ev)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from media.errors import ModelError
from media.types import Shot

__all__ = ["VisualEvidence", "VisualScorer", "keyframes"]


@dataclass(frozen=True, slots=True)
class VisualEvidence:
    """``sim[i, k]``: image-text cosine of beat i and keyframe k, whose shot spans ``spans[k]`` on the
    alignment's global timeline (sources laid end to end)."""

    spans: np.ndarray  # (n_shots, 2)
    sim: np.ndarray    # (n_beats, n_shots)

    def window_scores(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Beat x window: the best keyframe among the shots a window overlaps (0 where none)."""
        out = np.zeros((self.sim.shape[0], starts.size), dtype=np.float32)
        for j, (a, b) in enumerate(zip(starts, ends, strict=True)):
            hit = (self.spans[:, 0] < b) & (self.spans[:, 1] > a)
            if hit.any():
                out[:, j] = self.sim[:, hit].max(axis=1)
        return out


class VisualScorer:
    """A local image-text model (transformers), loaded once; never downloads."""

    def __init__(self, model_dir: str | os.PathLike[str], device: str = "cpu") -> None:
        self.model_dir = Path(model_dir)
        if not (self.model_dir / "config.json").is_file():
            raise ModelError(f"no image-text model in {self.model_dir} (config.json missing)")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer

            self._torch = torch
            self.model: Any = AutoModel.from_pretrained(str(self.model_dir), local_files_only=True).to(device).eval()
            self.tokenizer: Any = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            self._size, self._mean, self._std = _preprocessing(self.model_dir, self.model)
        except (OSError, ValueError, KeyError, RuntimeError, AttributeError) as ex:
            raise ModelError(f"cannot load the image-text model in {self.model_dir}: {ex}") from ex
        if not hasattr(self.model, "get_image_features") or not hasattr(self.model, "get_text_features"):
            raise ModelError(f"{self.model_dir} is not an image-text (CLIP/SigLIP-style) model")
        self.device = device

    def _norm(self, x: Any) -> np.ndarray:
        if not isinstance(x, self._torch.Tensor):  # some versions return an output object
            x = getattr(x, "pooler_output", None) if getattr(x, "pooler_output", None) is not None else x[0]
        v = x.detach().float().cpu().numpy()
        return np.asarray(v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12), dtype=np.float32)

    def encode_text(self, texts: Sequence[str]) -> np.ndarray:
        with self._torch.no_grad():
            tok = self.tokenizer(list(texts), padding=True, truncation=True, return_tensors="pt").to(self.device)
            return self._norm(self.model.get_text_features(**tok))

    def encode_images(self, images: Sequence[np.ndarray], batch: int = 32) -> np.ndarray:
        out = []
        with self._torch.no_grad():
            for k in range(0, len(images), batch):
                px = np.stack([_pixels(im, self._size, self._mean, self._std) for im in images[k:k + batch]])
                tensor = self._torch.from_numpy(px).to(self.device)
                out.append(self._norm(self.model.get_image_features(pixel_values=tensor)))
        dim = out[0].shape[1] if out else 1
        return np.concatenate(out) if out else np.zeros((0, dim), dtype=np.float32)

    def evidence(self, texts: Sequence[str], images: Sequence[np.ndarray], spans: Sequence[tuple[float, float]],
                 offset: float = 0.0) -> VisualEvidence:
        sim = self.encode_text(texts) @ self.encode_images(images).T
        sp = np.asarray([(a + offset, b + offset) for a, b in spans], dtype=np.float64).reshape(-1, 2)
        return VisualEvidence(sp, np.asarray(sim, dtype=np.float32))


_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _preprocessing(folder: Path, model: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """Input size and normalisation: the folder's ``preprocessor_config.json`` when it has one, else the
    model's image size with CLIP's statistics. (Done in numpy: no torchvision or PIL needed.)"""
    import json

    size = int(model.config.vision_config.image_size)
    mean, std = _CLIP_MEAN, _CLIP_STD
    cfg = folder / "preprocessor_config.json"
    if cfg.is_file():
        data = json.loads(cfg.read_text(encoding="utf-8"))
        mean, std = tuple(data.get("image_mean", mean)), tuple(data.get("image_std", std))
    return size, np.asarray(mean, np.float32), np.asarray(std, np.float32)


def _pixels(image: np.ndarray, size: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Centre square crop, resized (nearest) to ``size``, scaled and normalised; CHW float32."""
    h, w = image.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = image[y0:y0 + side, x0:x0 + side]
    idx = (np.arange(size) * side / size).astype(np.int64)
    img = crop[idx][:, idx].astype(np.float32) / 255.0
    return np.ascontiguousarray(((img - mean) / std).transpose(2, 0, 1), dtype=np.float32)


def keyframes(path: str | os.PathLike[str], shots: Sequence[Shot], size: int = 224) -> list[np.ndarray]:
    """The middle frame of each shot as RGB (``size`` px on the short side), decoded with PyAV."""
    import av

    out: list[np.ndarray] = []
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        base = st.time_base
        for sh in shots:
            t = (sh.start + sh.end) / 2
            c.seek(int(t / base), stream=st, backward=True) if base else c.seek(int(t * 1e6))
            frame = None
            for fr in c.decode(st):
                frame = fr
                if fr.time is not None and fr.time >= t:
                    break
            if frame is None:
                out.append(np.zeros((size, size, 3), np.uint8))
                continue
            scale = size / min(frame.width, frame.height)
            w, h = max(2, int(frame.width * scale)), max(2, int(frame.height * scale))
            out.append(frame.to_ndarray(width=w, height=h, format="rgb24"))
    return out
