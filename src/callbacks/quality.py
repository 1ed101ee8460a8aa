"""Scores generated audio at every validation: a log-mel Fréchet distance to training clips, and the
floor-relative scale (src/metrics/scale.py) against held-out reference clips."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import Dataset

from src.callbacks.samples import FixedNoiseGeneration
from src.data.audio_folder import AudioFolderSpec
from src.data.file_dataset import item_input
from src.data.synth import DRUM_KINDS, reference_kit
from src.metrics.aligned import aligned_logmel
from src.metrics.audio_sets import UNLABELED, label_of
from src.metrics.fast import ReferenceStats
from src.metrics.scale import FloorScale
from src.representations.base import Representation

log = logging.getLogger(__name__)
Reference = tuple[torch.Tensor, list[str]]  # (N, C, T) audio and a class label per clip


def uses_demo_kit(datamodule: pl.LightningDataModule) -> bool:
    """Whether the datamodule trains on the built-in synthetic kit (AudioDataModule.uses_demo_kit, the test
    its prepare_data writes the kit on); other datamodules never do."""
    return bool(getattr(datamodule, "uses_demo_kit", False))


def _even_indices(available: int, count: int) -> list[int]:
    """`count` indices spread evenly over `available` items (all of them when there are fewer): the
    files are sorted by path, so an even spread keeps every subfolder (class) in."""
    if available <= count:
        return list(range(available))
    return [round(i * (available - 1) / (count - 1)) for i in range(count)] if count > 1 else [0]


def _validation_labels(dataset: Dataset, indices: list[int], root: Path | None) -> list[str]:
    files = getattr(dataset, "files", None)
    if files is None or root is None:
        return [UNLABELED] * len(indices)
    return [label_of(Path(files[i]).relative_to(root)) for i in indices]


def validation_reference(datamodule: pl.LightningDataModule, pl_module: pl.LightningModule,
                         count: int) -> Reference | None:
    """Up to `count` clips of the validation split (never the training one) with subfolder labels.

    A latent cache keeps the audio behind its latents as `val_clips`; items that are model tensors
    rather than (channels, samples) audio (mel images) are decoded by the model. None when there are
    fewer than 4 clips: the scale splits the reference into two halves of at least 2."""
    dataset = getattr(datamodule, "val_clips", None)
    dataset = getattr(datamodule, "val_set", None) if dataset is None else dataset
    if dataset is None or len(dataset) < 4:
        return None
    indices = _even_indices(len(dataset), count)
    items = torch.stack([item_input(dataset[i]) for i in indices])
    if items.dim() != 3:
        with torch.no_grad():
            # the reference's own audio: decoded, never finished as sampled clips are
            items = pl_module.representation.decode(items.to(pl_module.device)).float().clamp(-1.0, 1.0).cpu()
    root = getattr(datamodule, "root", None)
    return items.float(), _validation_labels(dataset, indices, root)


def demo_kit_reference(spec: AudioFolderSpec, representation: Representation, count: int, seed: int) -> Reference:
    """At least `count` clips of a held-out kit (the demo trains on seed 0), class-balanced, drawn and
    converted like the demo's files and shaped like the model's audio (levelled as the
    data set is)."""
    audio, labels = reference_kit(math.ceil(count / len(DRUM_KINDS)), representation.sample_rate,
                                  representation.channels, representation.length, seed)
    return torch.stack([spec.normalize(clip) for clip in audio]), labels


class SampleQuality(FixedNoiseGeneration):
    """Logs, for `num_samples` clips generated from fixed noise at each validation:

    - `val/logmel_fd`: the log-mel Fréchet distance to the first `reference_clips` training clips (lower is
      better). The clip count is fixed, so values are comparable across the run even though Fréchet
      distances are biased upwards at small N.
    - with `scale`: `val/fd_ratio` (Fréchet distance over the real-vs-real floor, ~1 is as good as real
      data), `val/density` and `val/coverage` (~1 for real data), on the floor scale against
      `scale_clips` held-out clips (default 2 x num_samples): a fresh synthetic kit (seed
      `reference_seed`) when training on the demo kit, else the validation split. Averaged over `splits`
      reference half splits with `k` neighbours; no bootstrap, to stay cheap."""

    def __init__(self, num_samples: int = 8, reference_clips: int = 64, steps: int | None = None, seed: int = 1,
                 every_n_validations: int = 1, scale: bool = True, scale_clips: int | None = None,
                 reference_seed: int = 777, splits: int = 5, k: int = 5) -> None:
        super().__init__(num_samples, steps, seed, every_n_validations)
        if num_samples < 2 or reference_clips < 2:
            raise ValueError("SampleQuality needs at least 2 generated and 2 reference clips "
                             f"(num_samples={num_samples}, reference_clips={reference_clips})")
        if scale_clips is not None and scale_clips < 4:
            raise ValueError(f"SampleQuality scale_clips must be at least 4 (two halves of 2), got {scale_clips}")
        if splits < 1 or k < 1:
            raise ValueError(f"SampleQuality splits and k must be at least 1, got splits={splits}, k={k}")
        self.reference_clips = reference_clips
        self.scale, self.scale_clips, self.reference_seed = scale, scale_clips, reference_seed
        self.splits, self.k = splits, k
        self.reference: ReferenceStats | None = None
        self.floor_scale: FloorScale | None = None

    def held_out_reference(self, datamodule: pl.LightningDataModule, pl_module: pl.LightningModule) -> Reference | None:
        """The scale's reference: a fresh kit for the demo data, else the validation split."""
        count = self.scale_clips or 2 * self.num_samples
        if uses_demo_kit(datamodule):
            return demo_kit_reference(datamodule.spec, pl_module.representation, count, self.reference_seed)
        return validation_reference(datamodule, pl_module, count)

    def _training_reference(self, datamodule: pl.LightningDataModule, sample_rate: int) -> ReferenceStats | None:
        # A latent cache keeps the audio behind its latents as `train_clips`.
        dataset = getattr(datamodule, "train_clips", None)
        dataset = datamodule.train_set if dataset is None else dataset
        clips = [item_input(dataset[i]) for i in range(min(self.reference_clips, len(dataset)))]
        if len(clips) < 2 or clips[0].dim() != 2:
            log.warning("SampleQuality needs (channels, samples) training audio; val/logmel_fd is off")
            return None
        return ReferenceStats.from_audio(torch.stack(clips), sample_rate)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        datamodule = trainer.datamodule
        if getattr(datamodule, "train_set", None) is None:
            datamodule.setup("fit")
        sample_rate = pl_module.representation.sample_rate
        self.reference = self._training_reference(datamodule, sample_rate)
        if not self.scale:
            return
        reference = self.held_out_reference(datamodule, pl_module)
        if reference is None:
            log.warning("SampleQuality: fewer than 4 validation clips; val/fd_ratio, val/density and "
                        "val/coverage are off")
            return
        audio, labels = reference
        self.floor_scale = FloorScale(aligned_logmel(audio, sample_rate), labels, self.splits, self.k)
        log.info("SampleQuality: floor scale against %d held-out clips (%s)", len(labels),
                 ", ".join(f"{labels.count(label)} {label}" for label in sorted(set(labels))))

    def scores(self, audio: torch.Tensor, sample_rate: int) -> dict[str, float]:
        """The metrics logged for (N, C, T) generated audio."""
        scores = {}
        if self.reference is not None:
            scores["val/logmel_fd"] = self.reference.distance(audio, sample_rate)
        if self.floor_scale is not None:
            report = self.floor_scale.score(aligned_logmel(audio, sample_rate))
            if report.frechet.ratio is not None:
                scores["val/fd_ratio"] = report.frechet.ratio
            scores.update({"val/density": report.density.value, "val/coverage": report.coverage.value})
        return scores

    def on_generated(self, trainer: pl.Trainer, pl_module: pl.LightningModule, audio: torch.Tensor,
                     tensors: torch.Tensor) -> None:
        diverged = int((~torch.isfinite(audio).flatten(1).all(dim=1)).sum())
        if diverged:  # a diverging sampler is worth a warning, not the end of the run
            log.warning("step %d: %d of %d generated clips hold NaN or infinite samples; sample-quality metrics "
                        "are skipped at this validation", trainer.global_step, diverged, len(audio))
            return
        scores = self.scores(audio.cpu(), pl_module.representation.sample_rate)
        if not scores:
            return
        for logger in trainer.loggers:
            logger.log_metrics(scores, step=trainer.global_step)
        log.info("step %d: %s (%d generated clips)", trainer.global_step,
                 ", ".join(f"{name} {value:.3f}" for name, value in scores.items()), len(audio))
