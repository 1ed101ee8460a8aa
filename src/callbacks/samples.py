"""Generate audio from fixed noise at every validation; log it and write it to the run folder."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from src.audio.io import write_wav
from src.audio.spectrogram import save_spectrogram_png
from src.callbacks.media import log_media

log = logging.getLogger(__name__)


class AudioSampleLogger(pl.Callback):
    """Every `every_n_validations` validations, sample `num_samples` clips from the same
    noise (seeded by `seed`) so they are comparable across the run.

    Files land in `out_dir/step_XXXXXXX/` as WAV + spectrogram PNG, whatever the logger.
    Sampling happens at the first validation batch, when EMA weights (if any) are swapped in."""

    def __init__(self, out_dir: str, num_samples: int = 4, steps: int | None = None, seed: int = 0,
                 every_n_validations: int = 1) -> None:
        if num_samples < 1 or every_n_validations < 1:
            raise ValueError("num_samples and every_n_validations must be at least 1")
        self.out_dir = Path(out_dir)
        self.num_samples = num_samples
        self.steps = steps
        self.seed = seed
        self.every_n_validations = every_n_validations
        self._validations = 0
        self._noise: torch.Tensor | None = None

    def fixed_noise(self, pl_module: pl.LightningModule) -> torch.Tensor:
        if self._noise is None:
            shape = (self.num_samples, *pl_module.representation.tensor_shape())
            self._noise = torch.randn(shape, generator=torch.Generator().manual_seed(self.seed))
        return self._noise.to(pl_module.device)

    def on_validation_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                                batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        if trainer.sanity_checking or batch_idx != 0 or dataloader_idx != 0:
            return
        self._validations += 1
        if (self._validations - 1) % self.every_n_validations or not trainer.is_global_zero:
            return
        audio = pl_module.generate_from_noise(self.fixed_noise(pl_module), self.steps)
        self.write_and_log(trainer, audio, pl_module.representation.sample_rate)

    def write_and_log(self, trainer: pl.Trainer, audio: torch.Tensor, sample_rate: int) -> None:
        step = trainer.global_step
        folder = self.out_dir / f"step_{step:07d}"
        images = []
        for i, clip in enumerate(audio):
            write_wav(folder / f"sample_{i:02d}.wav", clip, sample_rate)
            images.append(save_spectrogram_png(folder / f"sample_{i:02d}.png", clip, sample_rate))
        log_media(trainer.loggers, "samples", list(audio), images, sample_rate, step)
        log.info("wrote %d validation samples to %s", len(audio), folder)
