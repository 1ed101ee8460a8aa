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
    names: Sequence[str] | None = None,
) -> None:
    """Log (channels, samples) clips and HWC uint8 images to W&B and TensorBoard, each under its
    name (default: its index), so a conditional model's samples show their label.

    Loggers without media support (CSV) are skipped: the run folder holds the files anyway.
    A failing logger is reported and ignored; media logging must never stop training."""
    names = list(names) if names is not None else [str(i) for i in range(len(audios))]
    for logger in loggers:
        try:
            if isinstance(logger, WandbLogger):
                _log_wandb(logger, key, audios, images, sample_rate, step, names)
            elif isinstance(logger, TensorBoardLogger):
                _log_tensorboard(logger, key, audios, images, sample_rate, step, names)
        except (OSError, RuntimeError, ValueError) as err:
            log.warning("could not log media to %s: %s", type(logger).__name__, err)


def _log_wandb(logger: WandbLogger, key, audios, images, sample_rate, step, names) -> None:
    # W&B wants (samples, channels) arrays; captions carry the names.
    clips = [a.detach().cpu().numpy().T for a in audios]
    logger.log_audio(key=f"{key}/audio", audios=clips, step=step, sample_rate=[sample_rate] * len(clips),
                     caption=names)
    logger.log_image(key=f"{key}/spectrogram", images=list(images), step=step, caption=names)


def _log_tensorboard(logger: TensorBoardLogger, key, audios, images, sample_rate, step, names) -> None:
    writer = logger.experiment
    for name, audio, image in zip(names, audios, images):
        writer.add_audio(f"{key}/audio_{name}", audio.detach().cpu().mean(0), step, sample_rate=sample_rate)
        writer.add_image(f"{key}/spectrogram_{name}", image, step, dataformats="HWC")
