"""Reading, writing and shaping audio. soundfile does the I/O (torchaudio's load/save
now need torchcodec + FFmpeg); torchaudio only resamples."""

from __future__ import annotations

import math

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from src.audio.decode import AUDIO_EXTENSIONS, AudioDecodeError, audio_info, read_samples  # noqa: F401 (part of this module's API)


def read_audio(path: str | Path, start: int = 0, frames: int = -1) -> tuple[torch.Tensor, int]:
    """Decode `frames` frames from `start` as float32 (channels, time) plus the file's rate.

    Raises AudioDecodeError for undecodable, empty or non-finite audio."""
    data, rate = read_samples(path, start, frames)
    return torch.from_numpy(np.ascontiguousarray(data.T)), rate


def write_wav(path: str | Path, audio: torch.Tensor, sample_rate: int) -> Path:
    """Write a (channels, time) float tensor as 16-bit PCM WAV, clipping to [-1, 1]."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = audio.detach().float().clamp(-1.0, 1.0).cpu().numpy().T
    sf.write(str(path), data, sample_rate, subtype="PCM_16")
    return path


def resample(audio: torch.Tensor, from_rate: int, to_rate: int) -> torch.Tensor:
    if from_rate == to_rate:
        return audio
    return AF.resample(audio, from_rate, to_rate)


def to_channels(audio: torch.Tensor, channels: int) -> torch.Tensor:
    """Mix down to mono, or repeat mono to N channels. Other mismatches keep the first N."""
    have = audio.shape[0]
    if have == channels:
        return audio
    if channels == 1:
        return audio.mean(dim=0, keepdim=True)
    if have == 1:
        return audio.expand(channels, -1).clone()
    if have > channels:
        return audio[:channels]
    raise ValueError(f"cannot convert {have}-channel audio to {channels} channels")


def fit_length(audio: torch.Tensor, length: int, offset: int = 0) -> torch.Tensor:
    """Crop `length` samples from `offset`, zero-padding at the end when too short."""
    audio = audio[..., offset : offset + length]
    missing = length - audio.shape[-1]
    if missing > 0:
        audio = torch.nn.functional.pad(audio, (0, missing))
    return audio


def normalize_lufs(audio: torch.Tensor, sample_rate: int, target_lufs: float) -> torch.Tensor:
    """Scale to an integrated loudness of `target_lufs` (ITU-R BS.1770-4: K-weighted and gated, what
    pyloudnorm measures for tiny-audio-diffusion's loudness=-20), then back off so the peak stays
    below 1. Clips with no measurable loudness (silent, or under the 0.4 s gate) are unchanged."""
    measured = float(AF.loudness(audio.float(), sample_rate))
    if not math.isfinite(measured):
        return audio
    audio = audio * 10.0 ** ((target_lufs - measured) / 20.0)
    peak = audio.abs().max()
    return audio / peak * 0.99 if peak > 0.99 else audio


def normalize_peak(audio: torch.Tensor, target_db: float) -> torch.Tensor:
    """Scale so the largest sample sits at `target_db` dBFS (at most 0). One-shots of one kit differ
    by 15 dB and more at their peaks (a hat against a kick); levelled, each is denoised against its
    own level rather than the loudest class's. Silent clips are returned unchanged."""
    if target_db > 0:
        raise ValueError(f"a peak target above 0 dBFS would clip, got {target_db}")
    peak = audio.abs().max()
    if peak <= 1e-8:
        return audio
    return audio * (10.0 ** (target_db / 20.0) / peak)


def normalize_loudness(audio: torch.Tensor, target_db: float) -> torch.Tensor:
    """Scale to an RMS of `target_db` dBFS, then back off so the peak stays below 1.

    Silent clips are returned unchanged (there is nothing to scale)."""
    rms = audio.pow(2).mean().sqrt()
    if rms <= 1e-8:
        return audio
    audio = audio * (10.0 ** (target_db / 20.0) / rms)
    peak = audio.abs().max()
    return audio / peak * 0.99 if peak > 0.99 else audio
