"""Onset-aligned log-mel vectors: shape at every rate, alignment, gain invariance, silence, envelopes."""

from __future__ import annotations

import pytest
import torch

from src.data.synth import synth_kit
from src.metrics.aligned import ALIGNED_FRAMES, ALIGNED_MELS, FLOOR_DB, aligned_logmel, stft_sizes

RATE = 16000


@pytest.fixture(scope="module")
def hits() -> torch.Tensor:
    return synth_kit(hits_per_kind=2, sample_rate=RATE, channels=2, length=8000, seed=1)[0]


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100])
def test_one_vector_size_at_every_rate(rate: int) -> None:
    audio, _ = synth_kit(hits_per_kind=1, sample_rate=rate, channels=1, length=rate // 2, seed=0)
    features = aligned_logmel(audio, rate)
    assert features.shape == (3, ALIGNED_MELS * ALIGNED_FRAMES) and features.dtype == torch.float32
    assert features.max() == 0.0 and features.min() >= FLOOR_DB  # each clip's peak bin is 0 dB
    n_fft, hop = stft_sizes(rate)
    assert n_fft == 2 * hop and abs(hop * ALIGNED_FRAMES / rate - 0.5) < 0.01


def test_a_late_hit_is_aligned_with_an_early_one(hits: torch.Tensor) -> None:
    # Whole hops of delay, both past the first frame (which sees the STFT's reflection padding).
    _, hop = stft_sizes(RATE)
    early, late = (torch.nn.functional.pad(hits, (hops * hop, 0)) for hops in (2, 9))
    assert torch.allclose(aligned_logmel(early, RATE), aligned_logmel(late, RATE), atol=1e-3)


def test_gain_does_not_move_a_clip_and_silence_is_the_floor(hits: torch.Tensor) -> None:
    assert torch.allclose(aligned_logmel(hits, RATE), aligned_logmel(0.1 * hits, RATE), atol=1e-3)
    silent = aligned_logmel(torch.zeros(2, 1, 4000), RATE)
    assert torch.equal(silent, torch.full_like(silent, FLOOR_DB))


def test_a_hiss_tail_is_seen(hits: torch.Tensor) -> None:
    """Decaying tails fall to the floor; the same hits over constant hiss keep a raised tail."""
    clean = aligned_logmel(hits, RATE).view(len(hits), ALIGNED_MELS, ALIGNED_FRAMES)
    hissy = aligned_logmel(hits + 0.02 * torch.randn(hits.shape, generator=torch.Generator().manual_seed(0)), RATE)
    tail = slice(ALIGNED_FRAMES // 2, None)
    assert (hissy.view_as(clean)[..., tail].mean() - clean[..., tail].mean()) > 10.0  # dB


def test_bad_audio_is_refused() -> None:
    with pytest.raises(ValueError, match="channels, samples"):
        aligned_logmel(torch.zeros(4, 100), RATE)
    with pytest.raises(ValueError, match="sample_rate"):
        stft_sizes(0)
