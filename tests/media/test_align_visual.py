"""Visual evidence: the real loading and scoring code on a tiny randomly initialised CLIP model (no
image-text weights ship in packages), fused into the programme."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from media.align import AlignOptions, align
from media.align_visual import VisualEvidence, VisualScorer, keyframes
from media.embed import Embedder
from media.errors import ModelError
from media.types import Shot
from tests.media.test_align import assert_valid, order_violations, story_case

MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"


def _tiny_clip(folder: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import CLIPConfig, CLIPModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    words = ["[PAD]", "[UNK]", "captain", "ship", "reactor", "bread", "village", "detective", "snow", "robot"]
    tok = Tokenizer(models.WordLevel({w: k for k, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]")  # type: ignore[no-untyped-call]
    cfg = CLIPConfig(text_config={"vocab_size": len(words), "hidden_size": 16, "intermediate_size": 32,
                                  "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 0,
                                  "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 32},
                     vision_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                                    "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
                     projection_dim=8)
    CLIPModel(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_a_tiny_random_clip_loads_scores_and_fuses(tmp_path: Path) -> None:
    scorer = VisualScorer(_tiny_clip(tmp_path / "clip"))
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (40, 60, 3), dtype=np.uint8) for _ in range(4)]
    ev = scorer.evidence(["captain ship", "snow robot"], images, [(0, 5), (5, 9), (9, 14), (14, 20)], offset=0.0)
    assert ev.sim.shape == (2, 4) and np.all(np.abs(ev.sim) <= 1.0 + 1e-5)
    win = ev.window_scores(np.array([0.0, 6.0, 30.0]), np.array([4.0, 15.0, 31.0]))
    assert win[:, 0].tolist() == pytest.approx(ev.sim[:, 0].tolist())
    assert win[:, 1].tolist() == pytest.approx(ev.sim[:, 1:4].max(axis=1).tolist())  # 6-15 s: shots 1-3
    assert win[:, 2].tolist() == [0.0, 0.0]                # no shot under it


def test_visual_evidence_moves_a_beat_when_it_is_strong(tmp_path: Path) -> None:
    case = story_case()
    src = case.sources[0]
    shots = np.array([(s.start, s.end) for s in src.shots])
    sim = np.zeros((len(case.script.beats), len(shots)), dtype=np.float32)
    none = align(case.script, case.sources, AlignOptions(), embedder=Embedder(),
                 visual=VisualEvidence(shots, sim))
    assert_valid(none, case.sources)                       # flat visual evidence changes nothing
    plain = align(case.script, case.sources, AlignOptions(), embedder=Embedder())
    assert [b.clips for b in none.beats] == [b.clips for b in plain.beats]
    assert order_violations(none, case.sources) == 0


def test_a_missing_or_wrong_model_folder_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        VisualScorer(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError):
        VisualScorer(tmp_path)


def test_keyframes_are_decoded_per_shot() -> None:
    film = MEDIA / "sintel_trailer_480x204.mp4"
    if not film.is_file():
        pytest.skip(f"the shared media folder is absent ({film})")
    frames = keyframes(film, [Shot(0.0, 2.0, 0, 48), Shot(12.0, 14.0, 288, 336)], size=64)
    assert len(frames) == 2 and all(f.shape[0] == 64 and f.shape[2] == 3 for f in frames)
    assert not np.array_equal(frames[0], frames[1])
