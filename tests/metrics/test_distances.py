"""The estimators themselves, on Gaussian samples with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from src.metrics.distances import (
    KernelSums,
    bootstrap,
    frechet_distance,
    frechet_estimate,
    frechet_from_stats,
    kernel_distance,
    kernel_estimate,
    median_bandwidth,
)


def gaussian(rng: np.random.Generator, n: int, d: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return rng.normal(size=(n, d)) * scale + shift


def test_frechet_from_stats_matches_closed_form_for_diagonal_gaussians() -> None:
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    sd1, sd2 = rng.uniform(0.5, 2.0, 6), rng.uniform(0.5, 2.0, 6)
    expected = ((mu1 - mu2) ** 2).sum() + ((sd1 - sd2) ** 2).sum()
    assert frechet_from_stats(mu1, np.diag(sd1**2), mu2, np.diag(sd2**2)) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("n, d", [(40, 5), (8, 30)])
def test_frechet_distance_agrees_with_sqrtm_of_sample_covariances(n: int, d: int) -> None:
    """(8, 30) takes the low-rank path, where both covariances are singular."""
    rng = np.random.default_rng(1)
    x, y = gaussian(rng, n, d), gaussian(rng, n + 3, d, shift=0.3, scale=1.5)
    via_stats = frechet_from_stats(x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
    assert frechet_distance(x, y) == pytest.approx(via_stats, rel=1e-5)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-9)


def test_frechet_distance_is_zero_for_identical_sets_and_accepts_tensors() -> None:
    x = gaussian(np.random.default_rng(2), 10, 4)
    assert frechet_distance(torch.from_numpy(x).float(), x) == pytest.approx(0.0, abs=1e-4)


def test_frechet_from_stats_survives_rank_deficient_covariances() -> None:
    rng = np.random.default_rng(3)
    low_rank = gaussian(rng, 3, 20)
    cov = np.cov(low_rank, rowvar=False)
    value = frechet_from_stats(np.zeros(20), cov, np.ones(20), cov)
    assert np.isfinite(value) and value == pytest.approx(20.0, rel=1e-3)


def test_kernel_distance_is_unbiased_for_equal_distributions() -> None:
    """Averaged over many small draws it is ~0, while the biased (V-statistic) estimate is clearly not."""
    rng = np.random.default_rng(4)
    unbiased, biased = [], []
    for _ in range(400):
        x, y = gaussian(rng, 6, 8), gaussian(rng, 6, 8)
        unbiased.append(kernel_distance(x, y))
        bandwidth = median_bandwidth(y)
        k = lambda a, b: np.exp(-cdist(a, b, "sqeuclidean") / (2 * bandwidth**2))  # noqa: E731
        biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
    unbiased, biased = np.array(unbiased), np.array(biased)
    standard_error = unbiased.std() / np.sqrt(len(unbiased))
    assert abs(unbiased.mean()) < 3 * standard_error
    assert (unbiased < 0).any()
    assert biased.mean() > 10 * standard_error


def test_kernel_distance_grows_with_the_shift() -> None:
    rng = np.random.default_rng(5)
    reference = gaussian(rng, 30, 4)
    scores = [kernel_distance(gaussian(rng, 30, 4, shift=s), reference) for s in (0.0, 0.5, 1.0, 2.0)]
    assert scores == sorted(scores) and scores[-1] > 0.5


def test_resampled_kernel_sums_leave_out_pairs_of_one_clip() -> None:
    """Counts (2, 0, 1, 1) mean draws [a, a, c, d]: the within-set sum skips the a-a pairs."""
    rng = np.random.default_rng(6)
    x, y = gaussian(rng, 4, 3), gaussian(rng, 5, 3)
    sums = KernelSums(x, y, bandwidth=1.3)
    counts_x, counts_y = np.array([2, 0, 1, 1]), np.ones(5, dtype=int)
    draws = np.repeat(np.arange(4), counts_x)
    k = lambda a, b: np.exp(-cdist(a, b, "sqeuclidean") / (2 * 1.3**2))  # noqa: E731
    within_x = [k(x[[i]], x[[j]])[0, 0] for a, i in enumerate(draws) for b, j in enumerate(draws) if i != j]
    kyy = k(y, y)
    within_y = (kyy.sum() - np.trace(kyy)) / 20
    expected = np.mean(within_x) + within_y - 2 * k(x[draws], y).mean()
    assert sums.mmd2(counts_x, counts_y) == pytest.approx(expected, rel=1e-12)


def test_bootstrap_is_seeded_reports_sizes_and_contains_the_estimate() -> None:
    rng = np.random.default_rng(7)
    x, y = gaussian(rng, 12, 5, shift=0.5), gaussian(rng, 15, 5)
    for estimate in (frechet_estimate(x, y, rounds=100, seed=3), kernel_estimate(x, y, rounds=100, seed=3)[0]):
        assert (estimate.n_generated, estimate.n_reference, estimate.rounds) == (12, 15, 100)
        assert estimate.low <= estimate.value <= estimate.high
        assert estimate.std > 0
    assert frechet_estimate(x, y, 50, seed=1) == frechet_estimate(x, y, 50, seed=1)
    assert frechet_estimate(x, y, 50, seed=1).mean != frechet_estimate(x, y, 50, seed=2).mean
    skipped = frechet_estimate(x, y, rounds=0)
    assert skipped.low is None and skipped.value == frechet_distance(x, y)


def test_bad_inputs_name_the_problem() -> None:
    rng = np.random.default_rng(8)
    with pytest.raises(ValueError, match="N >= 2"):
        frechet_distance(gaussian(rng, 1, 3), gaussian(rng, 5, 3))
    with pytest.raises(ValueError, match="feature sizes differ"):
        kernel_distance(gaussian(rng, 5, 3), gaussian(rng, 5, 4))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance(np.full((3, 2), np.nan), gaussian(rng, 5, 2))
    with pytest.raises(ValueError, match="rounds"):
        kernel_estimate(gaussian(rng, 5, 2), gaussian(rng, 5, 2), rounds=-1)


def test_frechet_interval_is_moved_back_by_the_bootstrap_bias() -> None:
    """Resamples hold fewer distinct points, so their Fréchet distances sit above the estimate; the
    interval is shifted back onto it rather than reported where the resamples fell."""
    rng = np.random.default_rng(9)
    x, y = gaussian(rng, 12, 20), gaussian(rng, 15, 20)
    estimate = frechet_estimate(x, y, rounds=200, seed=0)
    assert estimate.mean > estimate.value + 1.5 * estimate.std  # the raw 95% interval would miss it
    assert estimate.low <= estimate.value <= estimate.high
    assert estimate.high - estimate.low == pytest.approx(
        np.subtract(*np.percentile(_frechet_resamples(x, y), [97.5, 2.5])), rel=1e-9)


def _frechet_resamples(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    def resampled(cx: np.ndarray, cy: np.ndarray) -> float:
        return frechet_distance(np.repeat(x, cx, axis=0), np.repeat(y, cy, axis=0))

    return bootstrap(resampled, len(x), len(y), rounds=200, seed=0)
