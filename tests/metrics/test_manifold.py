"""Density, coverage and nearest-class assignment on hand-built point sets with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from src.metrics.manifold import density_coverage, knn_radii, nearest_classes


def line(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float64)[:, None]


def test_radii_reach_the_kth_other_point() -> None:
    assert knn_radii(line(0, 1, 3, 6, 10), k=2).tolist() == [3, 2, 3, 4, 7]


def test_known_density_and_coverage() -> None:
    real = line(0, 1, 3, 6, 10)  # k=2 radii 3, 2, 3, 4, 7
    # 2 is strictly inside the balls of 0, 1 and 3, exactly on the edge of 6's (not counted), outside 10's.
    assert density_coverage(real, line(2), k=2) == (1.5, 0.6)
    assert density_coverage(real, line(2, 100), k=2) == (0.75, 0.6)
    assert density_coverage(real, line(100, 200), k=2) == (0.0, 0.0)


def test_k1_on_a_grid() -> None:
    real = line(0, 1, 2, 3, 4)  # every radius is 1
    assert density_coverage(real, line(0.5), k=1) == (2.0, 0.4)


def test_a_set_against_itself_has_density_and_coverage_one() -> None:
    real = np.random.default_rng(0).standard_normal((40, 6))
    density, coverage = density_coverage(real, real, k=5)
    assert density == pytest.approx(1.0) and coverage == 1.0


def test_samples_of_one_distribution_score_near_one_and_far_samples_near_zero() -> None:
    rng = np.random.default_rng(1)
    real, fake = rng.standard_normal((400, 4)), rng.standard_normal((400, 4))
    density, coverage = density_coverage(real, fake, k=5)
    assert 0.8 < density < 1.2 and coverage > 0.9
    assert density_coverage(real, fake + 10.0, k=5) == (0.0, 0.0)


def test_k_must_leave_a_neighbour() -> None:
    with pytest.raises(ValueError, match="k must be in"):
        knn_radii(line(0, 1, 2), k=3)


def test_nearest_classes_vote_and_break_ties_by_distance() -> None:
    reference = line(0, 1, 2, 10, 11)
    labels = ["low", "low", "low", "high", "high"]
    assert nearest_classes(line(0.5, 10.4, 6.5), reference, labels, k=3) == ["low", "high", "high"]
    # k=2: one vote each for the points at 2 and 10; the tie goes to whichever of them is nearer.
    assert nearest_classes(line(6.1, 5.9), reference, labels, k=2) == ["high", "low"]
    with pytest.raises(ValueError, match="labels"):
        nearest_classes(line(0), reference, labels[:2])
