"""Memorisation check: are generated clips closer to training clips than training clips are to each other?

Distance between two clips: the mean absolute difference in dB of their 64-band log-mel spectrograms,
frame by frame from the start (one-shots are aligned at their onset; longer clips are compared over
their common start). Whole spectrograms rather than per-clip statistics, so that two different hits
with a similar average spectrum are not taken for copies. Each spectrogram is taken relative to its
own loudest bin and floored RANGE_DB below it, so a copy replayed at another gain, or over a faint
noise floor, is still a copy; and the mean runs over the bins where either clip is above that floor,
so two short hits are not called copies just because both are mostly silence.

For each generated clip we take the distance to its nearest training clip, and compare it with each
training clip's distance to its nearest other training clip (leave-one-out). A model that samples new
clips from the training distribution gives a ratio of medians near 1 and about half of its clips
"closer than typical"; a model that replays its training data gives ratios near 0 and fractions near 1."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from src.metrics.features import logmel_frames

log = logging.getLogger(__name__)

# Measured on the demo kit and real one-shots: at 50 dB, copies at 0.7x gain over -80 or -60 dBFS
# noise stay well under a tenth of the typical neighbour distance; at 60-80 dB the -60 dBFS ones do not.
RANGE_DB = 50.0


def relative_logmel(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """(N, C, T) audio -> (N, 64, frames) log-mel in dB relative to each clip's loudest bin, in [-RANGE_DB, 0]."""
    frames = logmel_frames(audio, sample_rate)
    return (frames - frames.amax(dim=(-2, -1), keepdim=True)).clamp_min(-RANGE_DB)


def spectral_distances(a: torch.Tensor, b: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """(Na, 64, frames) and (Nb, 64, frames') `relative_logmel` spectrograms -> (Na, Nb) distances in dB.

    The mean absolute difference over the bins (of the common frames) where either clip is above the
    floor: averaging over all bins would make any two short hits, mostly floor, look like copies."""
    frames = min(a.shape[-1], b.shape[-1])
    a = a[..., :frames].reshape(len(a), -1).double()
    b = b[..., :frames].reshape(len(b), -1).double()
    active_b = (b > -RANGE_DB).double()
    rows = []
    for part in a.split(chunk):
        active = (part > -RANGE_DB).double()
        union = active.sum(1, keepdim=True) + active_b.sum(1) - active @ active_b.T
        rows.append(torch.cdist(part, b, p=1.0) / union.clamp_min(1.0))
    return torch.cat(rows)


@dataclass(frozen=True)
class MemorizationReport:
    """Per-clip nearest-neighbour distances (dB) and their summary."""

    generated_nn: np.ndarray  # each generated clip's distance to its nearest training clip
    nearest_training: np.ndarray  # index of that training clip
    training_nn: np.ndarray  # each training clip's distance to its nearest other training clip
    copy_fraction: float  # a generated clip closer than copy_fraction * median(training_nn) is a suspected copy

    @property
    def median_generated_nn(self) -> float:
        return float(np.median(self.generated_nn))

    @property
    def median_training_nn(self) -> float:
        return float(np.median(self.training_nn))

    @property
    def ratio_of_medians(self) -> float | None:
        """median(generated NN) / median(training NN); None when training clips duplicate each other."""
        typical = self.median_training_nn
        return self.median_generated_nn / typical if typical > 0 else None

    @property
    def fraction_closer(self) -> float:
        """Fraction of generated clips nearer to a training clip than the median training-training NN."""
        return float((self.generated_nn < self.median_training_nn).mean())

    @property
    def suspected_copies(self) -> np.ndarray:
        return np.flatnonzero(self.generated_nn <= self.copy_fraction * self.median_training_nn)

    def to_dict(self, generated_names: list[str] | None = None,
                training_names: list[str] | None = None) -> dict[str, object]:
        def name(names: list[str] | None, index: int) -> str | int:
            return names[index] if names is not None else index

        copies = [{"generated": name(generated_names, int(i)),
                   "training": name(training_names, int(self.nearest_training[i])),
                   "distance_db": float(self.generated_nn[i])} for i in self.suspected_copies]
        return {
            "distance": f"mean |log-mel difference| in dB over active bins (re each clip's peak, "
                        f"{RANGE_DB:g} dB range)",
            "n_generated": len(self.generated_nn),
            "n_training": len(self.training_nn),
            "median_generated_nn_db": self.median_generated_nn,
            "median_training_nn_db": self.median_training_nn,
            "ratio_of_medians": self.ratio_of_medians,
            "fraction_closer_than_typical": self.fraction_closer,
            "copy_fraction": self.copy_fraction,
            "suspected_copies": copies,
        }


def memorization_from_frames(generated: torch.Tensor, training: torch.Tensor,
                             copy_fraction: float = 0.1) -> MemorizationReport:
    """The check on precomputed spectrograms from `relative_logmel`."""
    if len(training) < 2:
        raise ValueError(f"the memorisation check needs at least 2 training clips, got {len(training)}")
    if len(generated) < 1:
        raise ValueError("the memorisation check needs at least 1 generated clip")
    if not 0.0 <= copy_fraction < 1.0:
        raise ValueError(f"copy_fraction must be in [0, 1), got {copy_fraction}")
    to_training = spectral_distances(generated, training)
    among_training = spectral_distances(training, training)
    among_training.fill_diagonal_(float("inf"))  # leave-one-out: a clip is not its own neighbour
    nearest = to_training.min(dim=1)
    report = MemorizationReport(generated_nn=nearest.values.numpy(), nearest_training=nearest.indices.numpy(),
                                training_nn=among_training.min(dim=1).values.numpy(), copy_fraction=copy_fraction)
    if report.ratio_of_medians is None:
        log.warning("training clips duplicate each other (median nearest-neighbour distance is 0)")
    return report


def memorization_check(generated: torch.Tensor, training: torch.Tensor, sample_rate: int,
                       copy_fraction: float = 0.1) -> MemorizationReport:
    """Nearest-training-clip distances of (N, C, T) generated audio against (M, C, T) training audio."""
    return memorization_from_frames(relative_logmel(generated, sample_rate), relative_logmel(training, sample_rate),
                                    copy_fraction)
