"""Send audio clips and images to whichever loggers the run has."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from pytorch_lightning.loggers import Logger, TensorBoardLogger, WandbLogger

log = logging.getLogger(__name__)


def log_media(
    loggers: Sequence[Logger],
    key: str,
    audios: Sequence[torch.Tensor],
    images: Sequence[np.ndarray],
    sample_rate: int,
    step: int,
) -> None:
    """Log (channels, samples) clips and HWC uint8 images to W&B and TensorBoard.

    Loggers without media support (CSV) are skipped: the run folder holds the files anyway.
    A failing logger is reported and ignored; media logging must never stop training."""
    for logger in loggers:
        try:
            if isinstance(logger, WandbLogger):
                _log_wandb(logger, key, audios, images, sample_rate, step)
            elif isinstance(logger, TensorBoardLogger):
                _log_tensorboard(logger, key, audios, images, sample_rate, step)
        except (OSError, RuntimeError, ValueError) as err:
            log.warning("could not log media to %s: %s", type(logger).__name__, err)


def _log_wandb(logger: WandbLogger, key, audios, images, sample_rate, step) -> None:
    # W&B wants (samples, channels) arrays.
    clips = [a.detach().cpu().numpy().T for a in audios]
    logger.log_audio(key=f"{key}/audio", audios=clips, step=step, sample_rate=[sample_rate] * len(clips))
    logger.log_image(key=f"{key}/spectrogram", images=list(images), step=step)


def _log_tensorboard(logger: TensorBoardLogger, key, audios, images, sample_rate, step) -> None:
    writer = logger.experiment
    for i, (audio, image) in enumerate(zip(audios, images)):
        writer.add_audio(f"{key}/audio_{i}", audio.detach().cpu().mean(0), step, sample_rate=sample_rate)
        writer.add_image(f"{key}/spectrogram_{i}", image, step, dataformats="HWC")
