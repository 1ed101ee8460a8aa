"""Do the scores mean what they should? Same-distribution halves score near 0, noise scores high,
and more added noise scores higher."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from src.audio.io import fit_length, read_audio, to_channels
from src.metrics.distances import frechet_distance, frechet_estimate, kernel_distance, kernel_estimate
from src.metrics.features import extract_features

KIT_RATE = 44100  # write_demo_kit's default and the rate of the shared one-shots
# Std of added white noise: -50, -30 and -10 dBFS. (At -60 dBFS the real one-shots' log-mel Fréchet
# distance moves less than its sampling noise: 749 -> 704.)
NOISE_LEVELS = (0.003, 0.03, 0.3)
SHARED_DRUMS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "drum_oneshots"


def white_noise(like: torch.Tensor, seed: int = 0) -> torch.Tensor:
    return torch.randn(like.shape, generator=torch.Generator().manual_seed(seed))


def scores(generated: torch.Tensor, ref: dict[str, torch.Tensor]) -> dict[str, tuple[float, float]]:
    """{feature: (Fréchet, kernel)} of generated audio vs reference features."""
    gen = extract_features(generated, KIT_RATE, list(ref))
    return {name: (frechet_distance(gen[name], ref[name]), kernel_distance(gen[name], ref[name])) for name in ref}


def check_halves_vs_noise(halves: tuple[torch.Tensor, torch.Tensor], names: tuple[str, ...],
                          frechet_ratio: float) -> None:
    generated, reference = halves
    ref = extract_features(reference, KIT_RATE, names)
    same, noise = scores(generated, ref), scores(0.3 * white_noise(generated), ref)
    for name in names:
        assert same[name][0] < frechet_ratio * noise[name][0], (name, same[name], noise[name])
        assert same[name][1] < 0.1 * noise[name][1], (name, same[name], noise[name])


def check_monotone_in_noise(halves: tuple[torch.Tensor, torch.Tensor], names: tuple[str, ...]) -> None:
    generated, reference = halves
    ref = extract_features(reference, KIT_RATE, names)
    noise = white_noise(generated, seed=1)
    by_level = [scores(generated + level * noise, ref) for level in (0.0, *NOISE_LEVELS)]
    for name in names:
        for metric in (0, 1):
            series = [level[name][metric] for level in by_level]
            assert all(a < b for a, b in zip(series, series[1:])), (name, metric, series)


def test_kit_halves_score_near_zero_next_to_noise(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    check_halves_vs_noise(kit_halves, ("logmel", "mfcc"), frechet_ratio=0.05)


def test_crepe_tiny_tells_kit_halves_from_noise(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    check_halves_vs_noise(kit_halves, ("crepe",), frechet_ratio=0.3)


def test_more_added_noise_scores_higher(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    check_monotone_in_noise(kit_halves, ("logmel", "mfcc"))


def test_bootstrap_intervals_contain_the_estimates(kit_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    generated, reference = kit_halves
    ref = extract_features(reference, KIT_RATE, ["logmel"])["logmel"]
    for clips in (generated, generated + 0.01 * white_noise(generated)):
        gen = extract_features(clips, KIT_RATE, ["logmel"])["logmel"]
        for estimate in (frechet_estimate(gen, ref, 100, seed=0), kernel_estimate(gen, ref, 100, seed=0)[0]):
            assert estimate.low <= estimate.value <= estimate.high
            assert (estimate.n_generated, estimate.n_reference) == (12, 12)


@pytest.fixture(scope="module")
def real_halves() -> tuple[torch.Tensor, torch.Tensor]:
    if not SHARED_DRUMS.is_dir():
        pytest.skip(f"real drum one-shots not present at {SHARED_DRUMS}")
    clips = []
    for path in sorted(SHARED_DRUMS.rglob("*.wav")):
        audio, rate = read_audio(path)
        if rate != KIT_RATE:
            pytest.skip(f"expected {KIT_RATE} Hz one-shots, {path.name} is {rate} Hz")
        clips.append(fit_length(to_channels(audio, 2), 32768))
    if len(clips) < 8:
        pytest.skip(f"only {len(clips)} one-shots under {SHARED_DRUMS}")
    audio = torch.stack(clips)
    return audio[0::2].contiguous(), audio[1::2].contiguous()


def test_real_oneshot_halves_score_near_zero_next_to_noise(real_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    check_halves_vs_noise(real_halves, ("logmel", "mfcc"), frechet_ratio=0.05)


def test_real_oneshots_score_higher_with_more_noise(real_halves: tuple[torch.Tensor, torch.Tensor]) -> None:
    check_monotone_in_noise(real_halves, ("logmel",))
