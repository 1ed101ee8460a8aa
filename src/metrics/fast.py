"""A log-mel Fréchet distance cheap enough to compute on CPU at every validation.

    reference = ReferenceStats.from_audio(train_clips, sample_rate)   # once, e.g. 64-256 clips
    score = reference.distance(generated_clips, sample_rate)          # each validation, 8-16 clips

The Fréchet distance is biased upwards at small N, so the score is comparable across a run only when
every call scores the same number of generated clips; lower is better."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from src.audio.io import resample
from src.metrics.distances import frechet_distance
from src.metrics.features import logmel_stats


@dataclass(frozen=True)
class ReferenceStats:
    """Per-clip log-mel statistics (N, 128) of a reference set at `sample_rate`.

    The features are kept rather than only their mean and covariance: with fewer clips than feature
    dimensions the distance is then computed exactly (see `frechet_distance`), and they are small."""

    features: torch.Tensor
    sample_rate: int

    def __post_init__(self) -> None:
        if self.features.dim() != 2 or len(self.features) < 2:
            raise ValueError(f"ReferenceStats needs (N >= 2, D) features, got shape {tuple(self.features.shape)}")
        if self.sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {self.sample_rate}")

    @classmethod
    def from_audio(cls, audio: torch.Tensor, sample_rate: int) -> ReferenceStats:
        """Statistics of (N, C, T) reference audio, N >= 2."""
        return cls(features=logmel_stats(audio, sample_rate), sample_rate=sample_rate)

    @property
    def n(self) -> int:
        return len(self.features)

    def distance(self, audio: torch.Tensor, sample_rate: int) -> float:
        """Log-mel Fréchet distance of (N >= 2, C, T) generated audio to the reference.

        Audio at another rate is resampled to the reference's rate first (mel bands depend on it)."""
        audio = resample(audio.detach().float().contiguous(), sample_rate, self.sample_rate)
        return frechet_distance(logmel_stats(audio, self.sample_rate), self.features)
