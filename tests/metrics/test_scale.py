"""The floor-relative scale: halves, determinism, sanity on synthetic drums, white noise and hiss, ceiling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from src.data.synth import DRUM_KINDS, synth_kit
from src.metrics.aligned import aligned_logmel
from src.metrics.distances import frechet_distance
from src.metrics.scale import FloorScale, balanced_halves, representation_ceiling, score_against_floor

RATE, LENGTH = 16000, 8000


@pytest.fixture(scope="module")
def reference() -> tuple[torch.Tensor, list[str]]:
    """48 held-out hits (16 of each kind), mono, 0.5 s at 16 kHz."""
    return synth_kit(hits_per_kind=16, sample_rate=RATE, channels=1, length=LENGTH, seed=777)


@pytest.fixture(scope="module")
def scale(reference: tuple[torch.Tensor, list[str]]) -> FloorScale:
    audio, labels = reference
    return FloorScale(aligned_logmel(audio, RATE), labels, splits=5, k=5, seed=0)


@pytest.fixture(scope="module")
def other_kit() -> torch.Tensor:
    """24 hits from the same synthesiser, another seed: a 'model' that is as good as real data."""
    return synth_kit(hits_per_kind=8, sample_rate=RATE, channels=1, length=LENGTH, seed=5)[0]


def test_halves_are_class_balanced_disjoint_and_seeded() -> None:
    labels = ["kick"] * 5 + ["snare"] * 4 + ["hat"] * 3
    a, b = balanced_halves(labels, seed=(0, 1))
    assert not set(a) & set(b) and sorted([*a, *b]) == list(range(12))
    for kind, count in (("kick", 5), ("snare", 4), ("hat", 3)):
        in_a, in_b = (sum(labels[i] == kind for i in half) for half in (a, b))
        assert abs(in_a - in_b) <= 1 and in_a + in_b == count
    assert len(a) - len(b) in (0, 1)
    assert all(np.array_equal(x, y) for x, y in zip((a, b), balanced_halves(labels, seed=(0, 1))))
    assert not np.array_equal(a, balanced_halves(labels, seed=(0, 2))[0])


def test_splits_differ_and_the_scale_is_deterministic(reference: tuple[torch.Tensor, list[str]],
                                                      scale: FloorScale, other_kit: torch.Tensor) -> None:
    assert len({tuple(a) for a, _ in scale.halves}) == scale.splits == 5
    again = FloorScale(scale.features, reference[1], splits=5, k=5, seed=0)
    features = aligned_logmel(other_kit, RATE)
    assert scale.score(features, bootstrap=10, seed=1) == again.score(features, bootstrap=10, seed=1)


def test_real_data_scores_one_on_its_own_floor(scale: FloorScale, other_kit: torch.Tensor) -> None:
    report = scale.score(aligned_logmel(other_kit, RATE), bootstrap=20)
    assert report.n_compared == 24 and report.k == 5
    assert 0.5 < report.frechet.ratio < 2.0
    assert 0.7 < report.density.floor < 1.3 and report.coverage.floor > 0.85
    assert 0.6 < report.density.value < 1.6 and report.coverage.value > 0.8
    for score in (report.frechet, report.density, report.coverage):
        assert score.low <= score.value <= score.high
    assert sum(report.class_counts.values()) == 24 and list(report.class_counts) == sorted(DRUM_KINDS)
    assert all(6 <= count <= 10 for count in report.class_counts.values())  # 8 of each were generated


def test_a_set_against_itself(scale: FloorScale) -> None:
    assert frechet_distance(scale.features, scale.features) == pytest.approx(0.0, abs=1e-6)
    identity = scale.ceiling(scale.features)  # round trip that changes nothing: exactly the floor
    assert identity["frechet"].ratio == pytest.approx(1.0)
    assert identity["density"].value == identity["density"].floor


@pytest.mark.parametrize("kind", ["white noise", "hiss tail"])
def test_noise_is_far_above_the_floor(scale: FloorScale, other_kit: torch.Tensor, kind: str) -> None:
    noise = torch.randn(other_kit.shape, generator=torch.Generator().manual_seed(3))
    audio = 0.3 * noise if kind == "white noise" else other_kit + 0.03 * noise  # hits that never decay to silence
    report = scale.score(aligned_logmel(audio, RATE), bootstrap=20)
    assert report.frechet.ratio > 10 and report.frechet.to_dict()["ratio_low"] > 5
    assert report.density.value < 0.1 and report.coverage.value < 0.1


def test_score_against_floor_from_audio_with_a_ceiling(reference: tuple[torch.Tensor, list[str]],
                                                       other_kit: torch.Tensor) -> None:
    audio, labels = reference
    lossy = lambda x: x + 0.03 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))  # noqa: E731
    report = score_against_floor(other_kit, audio, labels, RATE, splits=3, k=5, bootstrap=0, round_trip=lossy)
    assert report.frechet.low is None and report.splits == 3
    assert report.ceiling["frechet"].ratio > 10  # a representation that adds hiss caps what a model can reach
    data = report.to_dict()
    assert set(data) >= {"features", "frechet", "density", "coverage", "class_counts", "ceiling", "n_compared"}
    assert data["frechet"]["ratio"] == report.frechet.ratio and data["ceiling"]["frechet"]["floor"] > 0
    ceiling = representation_ceiling(audio, labels, RATE, lambda x: x, splits=3)
    assert ceiling["frechet"].ratio == pytest.approx(1.0) and ceiling["coverage"].value == ceiling["coverage"].floor


def test_small_sets_lower_k_and_tiny_ones_are_refused() -> None:
    features = np.random.default_rng(0).standard_normal((6, 8))
    assert FloorScale(features, ["a", "b", "c"] * 2, k=5).k == 2  # halves of 3: the 2nd neighbour at most
    with pytest.raises(ValueError, match="too small to split"):
        FloorScale(features[:3], ["a", "b", "c"])
    with pytest.raises(ValueError, match="labels"):
        FloorScale(features, ["a"] * 5)
    with pytest.raises(ValueError, match="feature sizes differ"):
        FloorScale(features, ["a"] * 6).score(np.zeros((3, 4)))
