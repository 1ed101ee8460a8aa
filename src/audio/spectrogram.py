"""Log-mel spectrograms: for metrics, and as PNG images next to every generated clip."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torchaudio
from matplotlib import colormaps
from PIL import Image


@lru_cache(maxsize=8)
def _mel_transform(sample_rate: int, n_fft: int, hop_length: int, n_mels: int) -> torchaudio.transforms.MelSpectrogram:
    return torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, power=2.0
    )


def log_mel(
    audio: torch.Tensor, sample_rate: int, n_fft: int = 1024, hop_length: int = 256, n_mels: int = 64
) -> torch.Tensor:
    """Power mel spectrogram in dB (floored at -100 dB), channels averaged.

    (..., channels, samples) -> (..., n_mels, frames)."""
    transform = _mel_transform(sample_rate, n_fft, hop_length, n_mels).to(audio.device)
    mel = transform(audio.float()).mean(dim=-3)
    return 10.0 * torch.log10(mel.clamp_min(1e-10))


def spectrogram_image(audio: torch.Tensor, sample_rate: int, top_db: float = 80.0) -> np.ndarray:
    """(channels, samples) audio -> an RGB uint8 image, low frequencies at the bottom."""
    db = log_mel(audio.detach().cpu(), sample_rate, n_mels=128)
    db = db.clamp_min(db.max() - top_db)
    scaled = ((db - db.min()) / (db.max() - db.min() + 1e-9)).flip(0).numpy()
    rgb = colormaps["magma"](scaled)[..., :3]
    return (rgb * 255).astype(np.uint8)


def save_spectrogram_png(path: str | Path, audio: torch.Tensor, sample_rate: int) -> np.ndarray:
    """Write the spectrogram image of `audio` to `path`, upscaled for viewing; returns the image."""
    image = spectrogram_image(audio, sample_rate)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pil = Image.fromarray(image)
    pil.resize((max(pil.width, 256), max(pil.height * 2, 256)), Image.NEAREST).save(path)
    return image
