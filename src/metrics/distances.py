"""Distances between a generated and a reference set of feature vectors, with bootstrap intervals.

Fréchet distance: between Gaussian fits, |mu_g - mu_r|^2 + tr(S_g + S_r - 2 (S_g S_r)^(1/2)).
It is biased upwards at small N (noise in the covariances adds to it), so compare values only at equal N.

Kernel distance: the unbiased (U-statistic) estimate of MMD^2 with a Gaussian kernel
k(a, b) = exp(-|a - b|^2 / (2 s^2)), as in KAD. The bandwidth s is the median pairwise distance within
the reference set, so every generated set scored against one reference is scored with the same kernel.
Being unbiased, it averages ~0 for two samples of one distribution and can then be negative.

Bootstrap: both sets are resampled with replacement; repeated draws of one clip are never paired with
themselves in the kernel sums, so duplicates do not pull the kernel distance up. A resample holds only
~63% distinct clips, and the Fréchet distance grows as N shrinks, so its bootstrap distribution sits
above the point estimate (for two samples of one distribution, often wholly so). The reported interval is
therefore the bootstrap percentile interval moved back by that shift (mean - value): the sampling
spread of the estimate at this N, which is what matters when comparing models at equal N (for the
Fréchet distance clipped at 0). The raw bootstrap mean is reported too, so the shift is visible."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from scipy.linalg import sqrtm
from scipy.spatial.distance import cdist, pdist

Features = np.ndarray | torch.Tensor


@dataclass(frozen=True)
class Estimate:
    """A point estimate on the full sets plus, when bootstrapped, the bootstrap mean and std and the
    bias-shifted percentile interval (see the module docstring)."""

    value: float
    n_generated: int
    n_reference: int
    rounds: int = 0
    mean: float | None = None
    std: float | None = None
    low: float | None = None
    high: float | None = None
    level: float = 0.95

    def to_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def as_matrix(features: Features, name: str = "features") -> np.ndarray:
    """(N, D) float64 array with N >= 2 finite rows; ValueError naming `name` otherwise."""
    if isinstance(features, torch.Tensor):
        features = features.detach().cpu().numpy()
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < 1:
        raise ValueError(f"{name}: need an (N, D) feature matrix with N >= 2, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name}: features hold NaN or infinite values")
    return array


def _usable_root(product: np.ndarray) -> np.ndarray | None:
    """sqrtm(product) with rounding-level imaginary parts dropped; None when it is not usable."""
    root = sqrtm(product)
    if not np.isfinite(root).all():
        return None
    if np.iscomplexobj(root):
        # S1 S2 has real non-negative eigenvalues; imaginary parts are rounding unless they are large.
        if np.abs(root.imag).max() > 1e-4 * max(np.abs(root.real).max(), 1e-12):
            return None
        root = root.real
    return root


def frechet_from_stats(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray,
                       eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, cov1) and N(mu2, cov2) via scipy's sqrtm.

    When the covariance product is too singular for sqrtm, both covariances get a ridge of `eps` times
    their mean variance, which moves the result by about that relative amount."""
    root = _usable_root(cov1 @ cov2)
    if root is None:
        scale = max(np.trace(cov1), np.trace(cov2)) / len(cov1)
        ridge = eps * max(scale, 1e-12) * np.eye(len(cov1))
        root = _usable_root((cov1 + ridge) @ (cov2 + ridge))
    if root is None:
        raise ValueError("Fréchet distance: covariance square root failed even with a diagonal offset")
    diff = mu1 - mu2
    value = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(root)
    return max(float(value), 0.0)  # negative only through rounding


def frechet_distance(generated: Features, reference: Features) -> float:
    """Fréchet distance between Gaussian fits of two (N, D) feature sets.

    With fewer clips than dimensions the covariances are singular; then tr((S1 S2)^(1/2)) is computed
    exactly as the nuclear norm of A1 A2^T / sqrt((n1 - 1)(n2 - 1)), A the centred features: the
    non-zero eigenvalues of S1 S2 are the squared singular values of that small n1 x n2 matrix. This
    needs no sqrtm, no offset, and stays fast for 2048-d embeddings inside a bootstrap loop."""
    x, y = as_matrix(generated, "generated"), as_matrix(reference, "reference")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature sizes differ: generated {x.shape[1]}, reference {y.shape[1]}")
    if min(len(x), len(y)) > x.shape[1]:
        cov_x, cov_y = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
        return frechet_from_stats(x.mean(0), cov_x, y.mean(0), cov_y)
    a, b = x - x.mean(0), y - y.mean(0)
    trace_root = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt((len(x) - 1) * (len(y) - 1))
    diff = x.mean(0) - y.mean(0)
    value = diff @ diff + (a * a).sum() / (len(x) - 1) + (b * b).sum() / (len(y) - 1) - 2.0 * trace_root
    return max(float(value), 0.0)


def median_bandwidth(reference: Features) -> float:
    """Median pairwise Euclidean distance within `reference` (over distinct pairs that differ)."""
    distances = pdist(as_matrix(reference, "reference"))
    distances = distances[distances > 0]
    # All clips identical: any bandwidth gives the same kernel sums, so pick 1.
    return float(np.median(distances)) if distances.size else 1.0


class KernelSums:
    """Gaussian kernel matrices of two sets, computed once, giving the unbiased MMD^2 for any resample.

    A resample is given as per-clip draw counts; pairs of draws of the same clip are left out of the
    within-set sums, which makes the plain estimate (all counts 1) the usual U-statistic."""

    def __init__(self, generated: Features, reference: Features, bandwidth: float | None = None) -> None:
        x, y = as_matrix(generated, "generated"), as_matrix(reference, "reference")
        if x.shape[1] != y.shape[1]:
            raise ValueError(f"feature sizes differ: generated {x.shape[1]}, reference {y.shape[1]}")
        self.bandwidth = median_bandwidth(y) if bandwidth is None else float(bandwidth)
        if not self.bandwidth > 0:
            raise ValueError(f"kernel bandwidth must be positive, got {self.bandwidth}")
        gamma = 1.0 / (2.0 * self.bandwidth**2)
        self.kxx = np.exp(-gamma * cdist(x, x, "sqeuclidean"))
        self.kyy = np.exp(-gamma * cdist(y, y, "sqeuclidean"))
        self.kxy = np.exp(-gamma * cdist(x, y, "sqeuclidean"))

    @staticmethod
    def _within(kernel: np.ndarray, counts: np.ndarray) -> float:
        pairs = counts.sum() ** 2 - (counts**2).sum()
        return float((counts @ kernel @ counts - (counts**2 * np.diag(kernel)).sum()) / pairs)

    def mmd2(self, counts_x: np.ndarray | None = None, counts_y: np.ndarray | None = None) -> float:
        cx = np.ones(len(self.kxx)) if counts_x is None else counts_x.astype(np.float64)
        cy = np.ones(len(self.kyy)) if counts_y is None else counts_y.astype(np.float64)
        cross = cx @ self.kxy @ cy / (cx.sum() * cy.sum())
        return self._within(self.kxx, cx) + self._within(self.kyy, cy) - 2.0 * float(cross)


def kernel_distance(generated: Features, reference: Features, bandwidth: float | None = None) -> float:
    """Unbiased MMD^2 with a Gaussian kernel; `bandwidth` defaults to the reference's median distance."""
    return KernelSums(generated, reference, bandwidth).mmd2()


def _draw_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """How often each of n items is drawn in a resample of size n, redrawn until two items differ
    (a resample of one repeated clip has no within-set pairs)."""
    while True:
        counts = np.bincount(rng.integers(0, n, n), minlength=n)
        if (counts > 0).sum() >= 2:
            return counts


def bootstrap(statistic: Callable[[np.ndarray, np.ndarray], float], n_generated: int, n_reference: int,
              rounds: int = 200, seed: int = 0) -> np.ndarray:
    """`statistic(counts_generated, counts_reference)` over `rounds` seeded resamples of both sets."""
    if rounds < 1:
        raise ValueError(f"bootstrap rounds must be at least 1, got {rounds}")
    rng = np.random.default_rng(seed)
    return np.array([statistic(_draw_counts(rng, n_generated), _draw_counts(rng, n_reference))
                     for _ in range(rounds)])


def shifted_interval(value: float, samples: np.ndarray, level: float = 0.95, lower: float | None = None,
                     upper: float | None = None) -> tuple[float, float]:
    """The bootstrap percentile interval of `samples` moved back by their shift (mean - value), so it
    describes the spread at this N rather than the resampling bias (see the module docstring); the
    shift can carry it past what the statistic can take, so it is clipped to [lower, upper]."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail]) - (samples.mean() - value)
    low, high = np.clip([low, high], -np.inf if lower is None else lower, np.inf if upper is None else upper)
    return float(low), float(high)


def _estimate(value: float, n_x: int, n_y: int, samples: np.ndarray | None, level: float,
              floor: float | None = None) -> Estimate:
    if samples is None:
        return Estimate(value=value, n_generated=n_x, n_reference=n_y, level=level)
    low, high = shifted_interval(value, samples, level, lower=floor)
    return Estimate(value=value, n_generated=n_x, n_reference=n_y, rounds=len(samples), mean=float(samples.mean()),
                    std=float(samples.std(ddof=1)), low=low, high=high, level=level)


def frechet_estimate(generated: Features, reference: Features, rounds: int = 200, seed: int = 0,
                     level: float = 0.95) -> Estimate:
    """Fréchet distance with a bootstrap interval (`rounds=0` skips the bootstrap)."""
    x, y = as_matrix(generated, "generated"), as_matrix(reference, "reference")
    value = frechet_distance(x, y)

    def resampled(cx: np.ndarray, cy: np.ndarray) -> float:
        return frechet_distance(np.repeat(x, cx, axis=0), np.repeat(y, cy, axis=0))

    samples = bootstrap(resampled, len(x), len(y), rounds, seed) if rounds else None
    return _estimate(value, len(x), len(y), samples, level, floor=0.0)


def kernel_estimate(generated: Features, reference: Features, rounds: int = 200, seed: int = 0,
                    level: float = 0.95, bandwidth: float | None = None) -> tuple[Estimate, float]:
    """Kernel distance with a bootstrap interval, and the bandwidth used (fixed across resamples)."""
    sums = KernelSums(generated, reference, bandwidth)
    n_x, n_y = len(sums.kxx), len(sums.kyy)
    samples = bootstrap(sums.mmd2, n_x, n_y, rounds, seed) if rounds else None
    return _estimate(sums.mmd2(), n_x, n_y, samples, level), sums.bandwidth
