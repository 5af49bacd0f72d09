"""Fixtures for media tests: ``shared_media`` is the real-media folder ``../shared/media``.

    def test_x(shared_media: Path) -> None:
        info = probe(shared_media / "jfk.flac")
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"


@pytest.fixture(scope="session")
def shared_media() -> Path:
    """Path to ``../shared/media``; skips the test when the folder is absent."""
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"real test media not found at {SHARED_MEDIA} (../shared/media is absent)")
    return SHARED_MEDIA
