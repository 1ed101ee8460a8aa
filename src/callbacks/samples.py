"""Generate audio from fixed noise at validations: write/log it, and score it."""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from src.audio.io import write_wav
from src.audio.spectrogram import save_spectrogram_png
from src.callbacks.media import log_media
from src.representations.mel import save_mel_png

log = logging.getLogger(__name__)


class FixedNoiseGeneration(pl.Callback, ABC):
    """Every `every_n_validations` validations, sample `num_samples` clips from the same
    noise (seeded by `seed`) so results are comparable across the run, and hand them to
    `on_generated`. Sampling happens at the first validation batch, when EMA weights (if
    any) are swapped in; it never touches the global RNG, so resumed runs stay exact.

    A class-conditional model samples its classes at its default guidance scale: with
    `per_class` every class from the same first ceil(num_samples / classes) noises (so classes
    compare at about the cost of num_samples clips), else the classes in turn over the
    `num_samples` clips (a balanced set)."""

    per_class = False

    def __init__(self, num_samples: int = 4, steps: int | None = None, seed: int = 0,
                 every_n_validations: int = 1) -> None:
        if num_samples < 1 or every_n_validations < 1:
            raise ValueError("num_samples and every_n_validations must be at least 1")
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
        noise, labels = self.noise_and_labels(pl_module)
        tensors = pl_module.sample_tensors(noise, self.steps, labels=labels)
        self.on_generated(trainer, pl_module, pl_module.decode_audio(tensors), tensors)

    def noise_and_labels(self, pl_module: pl.LightningModule) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The fixed noise, and the class id of each clip for a conditional model (else None)."""
        noise = self.fixed_noise(pl_module)
        classes = len(getattr(pl_module, "labels", ()))
        if not classes:
            return noise, None
        if self.per_class:
            noise = noise[: math.ceil(noise.shape[0] / classes)]
            labels = torch.arange(classes).repeat_interleave(noise.shape[0])
            return noise.repeat(classes, *([1] * (noise.dim() - 1))), labels.to(noise.device)
        return noise, (torch.arange(noise.shape[0]) % classes).to(noise.device)

    @staticmethod
    def clip_names(pl_module: pl.LightningModule, count: int) -> list[str]:
        """`sample_00`, ... and, for a conditional model sampled per class, `sample_00_kick`, ..."""
        labels = list(getattr(pl_module, "labels", ()))
        if not labels:
            return [f"sample_{i:02d}" for i in range(count)]
        per_label = count // len(labels)
        return [f"sample_{i % per_label:02d}_{labels[i // per_label]}" for i in range(count)]

    @abstractmethod
    def on_generated(self, trainer: pl.Trainer, pl_module: pl.LightningModule, audio: torch.Tensor,
                     tensors: torch.Tensor) -> None:
        """Use the clips generated at this validation: audio (batch, channels, samples) and the
        model tensors they were decoded from."""


class AudioSampleLogger(FixedNoiseGeneration):
    """Writes each validation's clips to `out_dir/step_XXXXXXX/` as WAV + spectrogram PNG (plus
    the generated image itself, `sample_XX_mel.png`, for image representations), whatever the
    logger, and sends them to W&B / TensorBoard when present."""

    per_class = True

    def __init__(self, out_dir: str, num_samples: int = 4, steps: int | None = None, seed: int = 0,
                 every_n_validations: int = 1) -> None:
        super().__init__(num_samples, steps, seed, every_n_validations)
        self.out_dir = Path(out_dir)

    def on_generated(self, trainer: pl.Trainer, pl_module: pl.LightningModule, audio: torch.Tensor,
                     tensors: torch.Tensor) -> None:
        sample_rate = pl_module.representation.sample_rate
        step = trainer.global_step
        folder = self.out_dir / f"step_{step:07d}"
        images = []
        names = self.clip_names(pl_module, len(audio))
        for i, (clip, name) in enumerate(zip(audio, names)):
            write_wav(folder / f"{name}.wav", clip, sample_rate)
            spectrogram = save_spectrogram_png(folder / f"{name}.png", clip, sample_rate)
            generated = pl_module.representation.image(tensors[i])
            if generated is not None:
                save_mel_png(folder / f"{name}_mel.png", generated)
            # Loggers get the generated image itself where there is one (mel family), else the spectrogram.
            images.append(spectrogram if generated is None else generated.unsqueeze(-1).expand(-1, -1, 3).numpy())
        log_media(trainer.loggers, "samples", list(audio), images, sample_rate, step, names)
        log.info("wrote %d validation samples to %s", len(audio), folder)
