"""Scores generated audio at every validation: a log-mel Fréchet distance to training clips."""

from __future__ import annotations

import logging

import pytorch_lightning as pl
import torch

from src.callbacks.samples import FixedNoiseGeneration
from src.metrics.fast import ReferenceStats

log = logging.getLogger(__name__)


class SampleQuality(FixedNoiseGeneration):
    """Logs `val/logmel_fd`: the log-mel Fréchet distance between `num_samples` clips
    generated from fixed noise and the first `reference_clips` training clips (lower is
    better). The clip count is fixed, so values are comparable across the run even though
    Fréchet distances are biased upwards at small N."""

    def __init__(self, num_samples: int = 8, reference_clips: int = 64, steps: int | None = None, seed: int = 1,
                 every_n_validations: int = 1) -> None:
        super().__init__(num_samples, steps, seed, every_n_validations)
        if num_samples < 2 or reference_clips < 2:
            raise ValueError("SampleQuality needs at least 2 generated and 2 reference clips")
        self.reference_clips = reference_clips
        self.reference: ReferenceStats | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        datamodule = trainer.datamodule
        if getattr(datamodule, "train_set", None) is None:
            datamodule.setup("fit")
        # A latent cache keeps the audio behind its latents as `train_clips`.
        dataset = getattr(datamodule, "train_clips", None)
        dataset = datamodule.train_set if dataset is None else dataset
        clips = [dataset[i] for i in range(min(self.reference_clips, len(dataset)))]
        if len(clips) < 2 or clips[0].dim() != 2:
            log.warning("SampleQuality needs (channels, samples) training audio; val/logmel_fd is off")
            return
        self.reference = ReferenceStats.from_audio(torch.stack(clips), pl_module.representation.sample_rate)

    def on_generated(self, trainer: pl.Trainer, pl_module: pl.LightningModule, audio: torch.Tensor,
                     tensors: torch.Tensor) -> None:
        if self.reference is None:
            return
        score = self.reference.distance(audio.cpu(), pl_module.representation.sample_rate)
        for logger in trainer.loggers:
            logger.log_metrics({"val/logmel_fd": score}, step=trainer.global_step)
        log.info("step %d: val/logmel_fd %.3f (%d generated vs %d training clips)",
                 trainer.global_step, score, len(audio), self.reference.n)
