"""Results of the floor-relative quality scale (src/metrics/scale.py), JSON-ready."""

from __future__ import annotations

from dataclasses import dataclass

from src.metrics.aligned import ALIGNED_FRAMES, ALIGNED_MELS, FLOOR_DB, WINDOW_S

SCORE_NAMES = ("frechet", "density", "coverage")
FEATURE_SPACE = (f"onset-aligned log-mel: {ALIGNED_MELS} bands x {ALIGNED_FRAMES} frames over {WINDOW_S:g} s "
                 f"from each clip's peak frame, dB re the clip's peak, floored at {FLOOR_DB:g} dB")


@dataclass(frozen=True)
class ScaledScore:
    """A score, the same score for real data (the floor), and, when bootstrapped, a 95% interval of the
    score. The floor does not depend on the generated clips, so the ratio's interval is the score's
    interval over the floor."""

    value: float
    floor: float
    low: float | None = None
    high: float | None = None

    def _over_floor(self, x: float | None) -> float | None:
        # A zero floor (reference halves that coincide) has no scale to measure against.
        return None if x is None or self.floor <= 0 else x / self.floor

    @property
    def ratio(self) -> float | None:
        return self._over_floor(self.value)

    def to_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "floor": self.floor, "ratio": self.ratio, "low": self.low, "high": self.high,
                "ratio_low": self._over_floor(self.low), "ratio_high": self._over_floor(self.high)}


@dataclass(frozen=True)
class ScaleReport:
    """Generated clips scored against a held-out reference on the floor scale.

    frechet: Fréchet distance (lower is better); its ratio to the floor is the headline number, ~1 when
    the generated clips are as close to reference half A as reference half B is.
    density / coverage: k-NN manifold scores (higher is better, ~1 for real data; see manifold.py).
    class_counts: how many generated clips fall nearest to each reference class.
    ceiling: the same scores for round-tripped reference clips (the best a model limited by its
    representation can reach), when a round trip was given."""

    frechet: ScaledScore
    density: ScaledScore
    coverage: ScaledScore
    class_counts: dict[str, int]
    n_generated: int
    n_reference: int
    n_compared: int  # clips per side in each comparison: min(generated, smaller reference half)
    splits: int
    k: int
    bootstrap: int = 0
    ceiling: dict[str, ScaledScore] | None = None

    def to_dict(self) -> dict[str, object]:
        ceiling = None if self.ceiling is None else {name: score.to_dict() for name, score in self.ceiling.items()}
        return {
            "features": FEATURE_SPACE,
            "n_generated": self.n_generated, "n_reference": self.n_reference, "n_compared": self.n_compared,
            "splits": self.splits, "k": self.k, "bootstrap": self.bootstrap,
            **{name: getattr(self, name).to_dict() for name in SCORE_NAMES},
            "class_counts": dict(self.class_counts),
            "ceiling": ceiling,
        }
