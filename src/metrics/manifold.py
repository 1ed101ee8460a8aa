"""k-nearest-neighbour manifold scores: density and coverage (Naeem et al. 2020, "Reliable Fidelity and
Diversity Metrics for Generative Models"), and nearest-class assignment.

Every real (reference) point gets a ball reaching its k-th nearest other real point.
  density  = (1 / kM) * sum over the M fake points of the number of real balls holding it:
             how crowded the fakes sit among real points; ~1 when both come from one distribution,
             above 1 when fakes pile up in dense real regions, ~0 when they land off the real manifold.
  coverage = share of real balls holding at least one fake point: how much of the real data is matched;
             1 - 2^-k (~0.97 at k=5) on average for two large samples of one distribution, less at small N.
Ball membership is strict (distance < radius), as in the paper's code: with fakes = reals each point is
in its own ball and in k - 1 others on average, so density is exactly 1."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
from scipy.spatial.distance import cdist

from src.metrics.distances import Features


def as_points(points: Features, name: str) -> np.ndarray:
    """(N, D) float64 numpy array, N >= 1.

    Everything here runs in numpy/scipy, none of it in torch: alternating torch (OpenMP) and numpy
    (OpenBLAS) calls in a loop, as a bootstrap does, makes both thread pools spin against each other
    and runs ~100x slower on a 2-core machine."""
    if isinstance(points, torch.Tensor):
        points = points.detach().cpu().numpy()
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or len(array) == 0:
        raise ValueError(f"{name}: need an (N, D) point set with N >= 1, got shape {array.shape}")
    return array


def check_k(k: int, n_real: int) -> None:
    """Density and coverage need 1 <= k < n_real (a point's k-th neighbour must be another point)."""
    if not 1 <= k < n_real:
        raise ValueError(f"k must be in [1, {n_real - 1}] for {n_real} real points, got {k}")


def knn_radii(real: Features, k: int = 5) -> np.ndarray:
    """Distance from each real point to its k-th nearest other real point: (N,) float64."""
    points = as_points(real, "real")
    check_k(k, len(points))
    distances = cdist(points, points)
    np.fill_diagonal(distances, np.inf)  # a point is not its own neighbour
    return np.partition(distances, k - 1, axis=1)[:, k - 1]


def ball_membership(real: Features, fake: Features, radii: np.ndarray) -> np.ndarray:
    """(M, N) bool: fake point j lies strictly inside the ball of real point i."""
    return cdist(as_points(fake, "fake"), as_points(real, "real")) < radii[None, :]


def density_coverage_from_membership(inside: np.ndarray, k: int) -> tuple[float, float]:
    """Density and coverage from a `ball_membership` matrix (rows may repeat: bootstrap resamples)."""
    return float(inside.sum() / (k * inside.shape[0])), float(inside.any(axis=0).mean())


def density_coverage(real: Features, fake: Features, k: int = 5) -> tuple[float, float]:
    """(density, coverage) of `fake` points against `real` ones, both (N, D)."""
    inside = ball_membership(real, fake, knn_radii(real, k))
    return density_coverage_from_membership(inside, k)


def nearest_classes(points: Features, reference: Features, labels: Sequence[str], k: int = 5) -> list[str]:
    """Each point's class: the majority label of its k nearest reference points (k capped at the
    reference size); a tie goes to the tied label whose nearest member is closest."""
    reference = as_points(reference, "reference")
    if len(labels) != len(reference):
        raise ValueError(f"{len(labels)} labels for {len(reference)} reference points")
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    order = cdist(as_points(points, "points"), reference).argsort(axis=1, kind="stable")[:, :min(k, len(reference))]
    classes = []
    for row in order.tolist():
        votes = Counter(labels[i] for i in row)
        best = max(votes.values())
        # `row` runs nearest first, so the first tied label met is the one with the closest member.
        classes.append(next(labels[i] for i in row if votes[labels[i]] == best))
    return classes
