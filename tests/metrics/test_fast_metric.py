"""The in-training log-mel Fréchet distance: cheap, rate-aware, and it tells noise from drums."""

from __future__ import annotations

import time

import pytest
import torch

from src.audio.io import resample
from src.metrics.fast import ReferenceStats

KIT_RATE = 44100  # write_demo_kit's default


def test_fresh_drums_score_far_below_noise(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    generated, reference = kit_halves
    stats = ReferenceStats.from_audio(reference, KIT_RATE)
    assert stats.n == 12 and stats.features.shape == (12, 128)
    noise = 0.3 * torch.randn(generated.shape, generator=torch.Generator().manual_seed(0))
    assert stats.distance(generated, KIT_RATE) < 0.05 * stats.distance(noise, KIT_RATE)


def test_sixteen_clips_score_quickly_on_cpu(kit_audio: torch.Tensor) -> None:
    stats = ReferenceStats.from_audio(kit_audio, KIT_RATE)
    generated = kit_audio[:16].flip(-1)  # 16 full-length clips; reversed so they are not the reference
    start = time.perf_counter()
    score = stats.distance(generated, KIT_RATE)
    assert time.perf_counter() - start < 3.0  # ~0.1 s unloaded on 2 cores
    assert score > 0


def test_other_rates_and_strided_batches_are_accepted(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    generated, reference = kit_halves
    stats = ReferenceStats.from_audio(resample(reference, KIT_RATE, 22050), 22050)
    at_22k = resample(generated, KIT_RATE, 22050)
    assert stats.distance(generated, KIT_RATE) == pytest.approx(stats.distance(at_22k, 22050), rel=1e-6)
    strided = torch.cat([generated, generated])[::2]
    assert stats.distance(strided, KIT_RATE) == pytest.approx(stats.distance(strided.contiguous(), KIT_RATE))


def test_a_single_reference_clip_is_rejected(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    with pytest.raises(ValueError, match="N >= 2"):
        ReferenceStats.from_audio(kit_halves[1][:1], KIT_RATE)
