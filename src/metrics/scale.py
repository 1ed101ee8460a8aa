"""A floor-relative quality scale: generated clips scored against a held-out reference, in units of how
far real clips are from each other.

Raw Fréchet distances (tens of thousands on log-mel features) mean nothing on their own. Here the
reference set R (with class labels) is split into two class-balanced halves A and B, `splits` times
(seeded). The floor is the mean over splits of d(B, A): the score of real data. The score is the mean
over splits of d(G, A), G the generated clips. Both sides of every comparison hold the same number of
clips n = min(|G|, |B|) (G or B are subsampled, seeded, when larger), since the Fréchet distance grows
as N shrinks. So a Fréchet ratio score / floor of 1 means "as close to A as other real clips are";
density and coverage (manifold.py) are reported with their floors (~1 for real data).

The features are onset-aligned log-mel vectors (aligned.py). Intervals come from resampling the
generated clips (`bootstrap` rounds) and are bias-shifted like those in distances.py.

A ceiling scores round-tripped reference clips (B passed through a model's representation, e.g. mel
encode + decode) the same way: a model limited by that representation cannot beat it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch

from src.metrics.aligned import aligned_logmel
from src.metrics.distances import Features, frechet_distance, shifted_interval
from src.metrics.manifold import (
    as_points,
    ball_membership,
    density_coverage_from_membership,
    knn_radii,
    nearest_classes,
)
from src.metrics.scale_report import SCORE_NAMES, ScaledScore, ScaleReport

log = logging.getLogger(__name__)

RoundTrip = Callable[[torch.Tensor], torch.Tensor]
BOUNDS = {"frechet": (0.0, None), "density": (0.0, None), "coverage": (0.0, 1.0)}


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Single-threaded BLAS while scoring. The scale runs thousands of tiny matrix products (a bootstrap
    of 36 x 1024 features); threaded OpenBLAS gains nothing on those and, when another process holds a
    core, each call waits on a descheduled thread: ~30 ms instead of ~0.5 ms per distance."""
    try:
        from threadpoolctl import threadpool_limits  # comes with scikit-learn (via librosa); optional
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def balanced_halves(labels: Sequence[str], seed: int | Sequence[int] = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of two halves (A, B) holding each class's clips half and half, drawn at random (seeded).

    A class's odd clip goes to the smaller half so far (A on a tie), so |A| - |B| is 0 or 1."""
    rng = np.random.default_rng(seed)
    first: list[int] = []
    second: list[int] = []
    for label in sorted(set(labels)):
        members = rng.permutation([i for i, other in enumerate(labels) if other == label]).tolist()
        half = len(members) // 2
        first += members[:half]
        second += members[half:2 * half]
        if len(members) % 2:
            (first if len(first) <= len(second) else second).append(members[-1])
    return np.sort(np.array(first, dtype=np.int64)), np.sort(np.array(second, dtype=np.int64))


def _points(features: Features, name: str) -> np.ndarray:
    points = as_points(features, name)  # numpy: see manifold.as_points for why not torch
    if len(points) < 2:
        raise ValueError(f"{name}: need (N >= 2, D) features, got shape {points.shape}")
    return points


class FloorScale:
    """The reference side of the scale, built once: its halves, their k-NN balls and (per n) the floor."""

    def __init__(self, reference: Features, labels: Sequence[str], splits: int = 5, k: int = 5, seed: int = 0) -> None:
        self.features = _points(reference, "reference")
        self.labels = [str(label) for label in labels]
        if len(self.labels) != len(self.features):
            raise ValueError(f"{len(self.labels)} reference labels for {len(self.features)} reference clips")
        if splits < 1 or k < 1:
            raise ValueError(f"splits and k must be at least 1, got splits={splits}, k={k}")
        self.seed = seed
        self.halves = [balanced_halves(self.labels, (seed, split)) for split in range(splits)]
        smallest = min(min(len(a), len(b)) for a, b in self.halves)
        if smallest < 2:
            raise ValueError(f"the reference set ({len(self.features)} clips) is too small to split: "
                             f"a half holds {smallest} clip(s), at least 2 are needed (4 reference clips)")
        # A point's k-th neighbour must lie inside its half; small halves get a smaller k.
        self.k = min(k, min(len(a) for a, _ in self.halves) - 1)
        if self.k < k:
            log.info("k lowered from %d to %d: reference halves hold %d clips", k, self.k, smallest)
        self.radii = [knn_radii(self.features[a], self.k) for a, _ in self.halves]
        self._floors: dict[int, np.ndarray] = {}

    @property
    def splits(self) -> int:
        return len(self.halves)

    @property
    def half_size(self) -> int:
        """The size of the smallest half B over all splits: the most clips a comparison can use."""
        return min(len(b) for _, b in self.halves)

    def _subsample(self, count: int, n: int, split: int) -> np.ndarray:
        """Positions of a seeded, sorted n-subset of `count` items (all of them when count <= n)."""
        if count <= n:
            return np.arange(count)
        rng = np.random.default_rng((self.seed, split, count, n))
        return np.sort(rng.choice(count, n, replace=False))

    def memberships(self, points: np.ndarray) -> list[np.ndarray]:
        """Per split, which of `points` lie in which ball of half A: (len(points), |A|) bool. Computed once
        per point set, so bootstrap resamples only pick rows (the distances are most of the cost)."""
        return [ball_membership(self.features[a], points, radii) for (a, _), radii in zip(self.halves, self.radii)]

    def _mean_over_splits(self, points: np.ndarray, n: int, rows: Callable[[int], np.ndarray] | None = None,
                          members: list[np.ndarray] | None = None) -> np.ndarray:
        """[Fréchet, density, coverage] of `points` (only `rows(split)` when given), subsampled to n, against
        half A, averaged over splits; `members` are the points' `memberships` when already known."""
        members = self.memberships(points) if members is None else members
        scores = []
        for split in range(self.splits):
            chosen = np.arange(len(points)) if rows is None else rows(split)
            picked = chosen[self._subsample(len(chosen), n, split)]
            density, coverage = density_coverage_from_membership(members[split][picked], self.k)
            half = self.features[self.halves[split][0]]
            scores.append([frechet_distance(points[picked], half), density, coverage])
        return np.mean(scores, axis=0)

    def floor(self, n: int) -> np.ndarray:
        """[Fréchet, density, coverage] of half B (n clips) against half A, averaged over splits."""
        if not 2 <= n <= self.half_size:
            raise ValueError(f"a comparison needs 2 to {self.half_size} clips a side, got n={n}")
        if n not in self._floors:
            self._floors[n] = self._mean_over_splits(self.features, n, lambda split: self.halves[split][1])
        return self._floors[n]

    def compared_size(self, n_generated: int) -> int:
        return min(n_generated, self.half_size)

    def _intervals(self, points: np.ndarray, n: int, values: np.ndarray, rounds: int,
                   seed: int) -> list[tuple[float | None, float | None]]:
        """Bias-shifted 95% intervals from `rounds` resamples (with replacement) of the generated points."""
        if rounds < 1:
            return [(None, None)] * len(SCORE_NAMES)
        rng = np.random.default_rng(seed)
        members = self.memberships(points)
        samples = []
        for _ in range(rounds):
            drawn = rng.integers(0, len(points), len(points))
            samples.append(self._mean_over_splits(points[drawn], n, members=[m[drawn] for m in members]))
        samples = np.array(samples)
        return [shifted_interval(values[i], samples[:, i], 0.95, *BOUNDS[name]) for i, name in enumerate(SCORE_NAMES)]

    def ceiling(self, round_tripped: Features, n: int | None = None) -> dict[str, ScaledScore]:
        """Round-tripped half B (rows of `round_tripped` match the reference's) against A, with the floor."""
        points = _points(round_tripped, "round-tripped reference")
        if points.shape != self.features.shape:
            raise ValueError(f"round-tripped features {points.shape} do not match the reference's "
                             f"{self.features.shape}")
        n = self.half_size if n is None else n
        with one_blas_thread():
            values, floors = self._mean_over_splits(points, n, lambda split: self.halves[split][1]), self.floor(n)
        return {name: ScaledScore(float(v), float(f)) for name, v, f in zip(SCORE_NAMES, values, floors)}

    def score(self, generated: Features, bootstrap: int = 0, seed: int = 0,
              round_tripped: Features | None = None) -> ScaleReport:
        """Generated features on the scale; `bootstrap` resampling rounds give the intervals (0: none)."""
        points = _points(generated, "generated")
        if points.shape[1] != self.features.shape[1]:
            raise ValueError(f"feature sizes differ: generated {points.shape[1]}, reference {self.features.shape[1]}")
        if bootstrap < 0:
            raise ValueError(f"bootstrap must be at least 0, got {bootstrap}")
        n = self.compared_size(len(points))
        with one_blas_thread():
            values, floors = self._mean_over_splits(points, n), self.floor(n)
            intervals = self._intervals(points, n, values, bootstrap, seed)
        scores = {name: ScaledScore(float(values[i]), float(floors[i]), *intervals[i])
                  for i, name in enumerate(SCORE_NAMES)}
        classes = nearest_classes(points, self.features, self.labels, self.k)
        return ScaleReport(
            **scores, class_counts={label: classes.count(label) for label in sorted(set(self.labels))},
            n_generated=len(points), n_reference=len(self.features), n_compared=n, splits=self.splits, k=self.k,
            bootstrap=bootstrap, ceiling=None if round_tripped is None else self.ceiling(round_tripped, n))


@torch.no_grad()
def apply_round_trip(audio: torch.Tensor, round_trip: RoundTrip, batch_size: int = 16) -> torch.Tensor:
    """`round_trip` over (N, C, T) audio in batches, back on the CPU as float32."""
    return torch.cat([round_trip(chunk).detach().float().cpu() for chunk in audio.split(batch_size)])


def score_against_floor(generated_audio: torch.Tensor, reference_audio: torch.Tensor, reference_labels: Sequence[str],
                        sample_rate: int, splits: int = 5, k: int = 5, bootstrap: int = 200, seed: int = 0,
                        round_trip: RoundTrip | None = None) -> ScaleReport:
    """(N, C, T) generated audio against (M, C', T') labelled reference audio, both at `sample_rate`.

    `round_trip` (audio -> audio, e.g. a representation's decode(encode(x))) adds the ceiling."""
    scale = FloorScale(aligned_logmel(reference_audio, sample_rate), reference_labels, splits, k, seed)
    round_tripped = None
    if round_trip is not None:
        round_tripped = aligned_logmel(apply_round_trip(reference_audio, round_trip), sample_rate)
    return scale.score(aligned_logmel(generated_audio, sample_rate), bootstrap, seed, round_tripped)


def representation_ceiling(reference_audio: torch.Tensor, reference_labels: Sequence[str], sample_rate: int,
                           round_trip: RoundTrip, splits: int = 5, k: int = 5, seed: int = 0) -> dict[str, ScaledScore]:
    """Round-tripped reference half B against half A at the full half size: {score name: ScaledScore}."""
    scale = FloorScale(aligned_logmel(reference_audio, sample_rate), reference_labels, splits, k, seed)
    return scale.ceiling(aligned_logmel(apply_round_trip(reference_audio, round_trip), sample_rate))
