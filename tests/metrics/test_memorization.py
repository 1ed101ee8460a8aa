"""The memorisation check flags replayed training clips and leaves fresh ones alone."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from src.metrics.memorization import RANGE_DB, memorization_check, relative_logmel, spectral_distances

KIT_RATE = 44100  # write_demo_kit's default


def test_exact_copies_of_training_clips_are_flagged(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    training, held_out = kit_halves
    copied = [1, 6, 10]
    generated = torch.cat([training[copied], held_out[:5]])
    report = memorization_check(generated, training, KIT_RATE)
    assert report.suspected_copies.tolist() == [0, 1, 2]
    assert report.nearest_training[:3].tolist() == copied
    assert np.all(report.generated_nn[:3] == 0)
    names = [f"g{i}" for i in range(len(generated))]
    summary = report.to_dict(names, [f"t{i}" for i in range(len(training))])
    assert [c["training"] for c in summary["suspected_copies"]] == ["t1", "t6", "t10"]
    json.dumps(summary)  # the CLI writes it as JSON


def test_a_model_that_only_replays_scores_zero(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    training = kit_halves[0]
    report = memorization_check(training.flip(0), training, KIT_RATE)
    assert report.ratio_of_medians == 0.0 and report.fraction_closer == 1.0
    assert len(report.suspected_copies) == len(training)


def test_fresh_clips_from_the_same_distribution_are_not_copies(
        kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    training, held_out = kit_halves
    report = memorization_check(held_out, training, KIT_RATE)
    assert len(report.suspected_copies) == 0
    assert report.generated_nn.min() > 0.5 * report.copy_fraction * report.median_training_nn
    assert 0.5 < report.ratio_of_medians < 2.0


def test_copies_at_another_gain_over_faint_noise_are_flagged(
        kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    training = kit_halves[0]
    noise = torch.randn(training.shape, generator=torch.Generator().manual_seed(0))
    report = memorization_check(training * 0.7 + 1e-4 * noise, training, KIT_RATE)
    assert len(report.suspected_copies) == len(training) and report.fraction_closer == 1.0
    loud_noise = memorization_check(training * 0.7 + 1e-2 * noise, training, KIT_RATE)
    assert loud_noise.ratio_of_medians > 10 * report.ratio_of_medians


def test_distance_averages_over_bins_active_in_either_clip_and_common_frames() -> None:
    floor = -RANGE_DB
    a = torch.full((1, 2, 5), floor)
    a[0, 0, 0] = -10.0  # one active bin
    b = torch.full((2, 2, 7), floor)
    b[0, 0, 0] = -4.0  # the same bin active: 6 dB apart over 1 bin
    b[1, 1, :2] = floor + 10.0  # two other bins: (40 + 10 + 10) dB over 3 bins
    b[1, 1, 6] = 0.0  # beyond a's frames: ignored
    expected = torch.tensor([[6.0, 20.0]], dtype=torch.float64)
    torch.testing.assert_close(spectral_distances(a, b), expected)


def test_spectrograms_are_relative_to_each_clip_peak(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    clips = kit_halves[0][:2]
    frames = relative_logmel(clips, KIT_RATE)
    assert frames.amax(dim=(1, 2)).tolist() == [0.0, 0.0] and frames.min() == -RANGE_DB
    torch.testing.assert_close(relative_logmel(clips * 0.25, KIT_RATE), frames, atol=1e-3, rtol=0)


def test_needs_two_training_clips(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    with pytest.raises(ValueError, match="at least 2 training clips"):
        memorization_check(kit_halves[0][:2], kit_halves[1][:1], KIT_RATE)
