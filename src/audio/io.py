"""Reading, writing and shaping audio. soundfile does the I/O (torchaudio's load/save
now need torchcodec + FFmpeg); torchaudio only resamples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

# File extensions of each libsndfile container (headerless RAW is left out: it has no rate to read).
FORMAT_EXTENSIONS = {
    "WAV": (".wav", ".wave"), "WAVEX": (".wav",), "AIFF": (".aif", ".aiff", ".aifc"), "AU": (".au", ".snd"),
    "FLAC": (".flac",), "OGG": (".ogg", ".oga", ".opus"), "MP3": (".mp3",), "W64": (".w64",),
    "RF64": (".rf64",), "CAF": (".caf",), "SD2": (".sd2",), "IRCAM": (".sf", ".ircam"), "VOC": (".voc",),
    "SVX": (".iff", ".svx", ".8svx"), "NIST": (".nist", ".sph"), "PAF": (".paf", ".fap"), "AVR": (".avr",),
    "HTK": (".htk",), "SDS": (".sds",), "MPC2K": (".mpc2k",), "XI": (".xi",), "WVE": (".wve",),
    "PVF": (".pvf",), "MAT4": (".mat4",), "MAT5": (".mat5",),
}
# Every extension the installed libsndfile reads, found from the formats it reports.
AUDIO_EXTENSIONS = tuple(sorted({ext for name in sf.available_formats() for ext in FORMAT_EXTENSIONS.get(name, ())}))


class AudioDecodeError(ValueError):
    """A file that cannot be used as training audio; the message names the file."""


def read_audio(path: str | Path, start: int = 0, frames: int = -1) -> tuple[torch.Tensor, int]:
    """Decode `frames` frames from `start` as float32 (channels, time) plus the file's rate.

    Raises AudioDecodeError for undecodable, empty or non-finite audio."""
    path = Path(path)
    try:
        data, rate = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
    except Exception as err:  # libsndfile raises several types; all mean "unusable file"
        raise AudioDecodeError(f"{path}: cannot decode ({err})") from err
    if data.size == 0:
        raise AudioDecodeError(f"{path}: holds no audio frames")
    if not np.isfinite(data).all():
        raise AudioDecodeError(f"{path}: holds NaN or infinite samples")
    return torch.from_numpy(np.ascontiguousarray(data.T)), int(rate)


def audio_info(path: str | Path) -> tuple[int, int, int]:
    """(frames, sample_rate, channels) from the header alone; AudioDecodeError if unreadable or empty."""
    try:
        info = sf.info(str(path))
    except Exception as err:  # see read_audio
        raise AudioDecodeError(f"{path}: cannot decode ({err})") from err
    if info.frames <= 0:
        raise AudioDecodeError(f"{path}: holds no audio frames")
    return int(info.frames), int(info.samplerate), int(info.channels)


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


def normalize_loudness(audio: torch.Tensor, target_db: float) -> torch.Tensor:
    """Scale to an RMS of `target_db` dBFS, then back off so the peak stays below 1.

    Silent clips are returned unchanged (there is nothing to scale)."""
    rms = audio.pow(2).mean().sqrt()
    if rms <= 1e-8:
        return audio
    audio = audio * (10.0 ** (target_db / 20.0) / rms)
    peak = audio.abs().max()
    return audio / peak * 0.99 if peak > 0.99 else audio
