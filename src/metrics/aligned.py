"""Onset-aligned log-mel vectors: the feature space of the floor-relative quality scale (src/metrics/scale.py).

Per clip: the mono mix; a 32-band log-mel spectrogram with a hop of 1/64 s and a Hann window of two hops
(so ALIGNED_FRAMES frames span WINDOW_S = 0.5 s at every sample rate, and the vector has the same
32 x 32 = 1024 entries whatever the rate); each bin in dB relative to the clip's loudest bin, floored at
FLOOR_DB; then shifted in time so that the frame with the most energy (the hit's peak) is frame 0, cut or
padded with the floor to ALIGNED_FRAMES frames, and flattened band by band.

Time-averaged statistics (src/metrics/features.py) cannot tell a hit with a constant hiss tail from one
that decays, nor a hat from a burst of noise with the same average spectrum: here every frame after the
peak is its own set of coordinates, so the envelope counts. Being relative to each clip's peak, a gain
change does not move a clip; digital silence (no bin above SILENT_DB) maps to the all-floor vector."""

from __future__ import annotations

import torch

from src.audio.spectrogram import log_mel

ALIGNED_MELS = 32
ALIGNED_FRAMES = 32
WINDOW_S = 0.5  # seconds after the peak that the frames cover
FLOOR_DB = -60.0  # below the clip's peak: as in features.LOG_MEL_FLOOR_DB, inaudible tails look alike
SILENT_DB = -90.0  # absolute; log_mel itself floors at -100 dB, so a peak below this is digital silence


def stft_sizes(sample_rate: int) -> tuple[int, int]:
    """(n_fft, hop) in samples at `sample_rate`: hop = WINDOW_S / ALIGNED_FRAMES, window = two hops."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    hop = max(1, round(sample_rate * WINDOW_S / ALIGNED_FRAMES))
    return 2 * hop, hop


def _relative_db(audio: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """(N, C, T) -> (N, bands, frames) log-mel of the mono mix in dB re each clip's peak, in [FLOOR_DB, 0]."""
    n_fft, hop = stft_sizes(sample_rate)
    db = log_mel(audio.mean(dim=1, keepdim=True), sample_rate, n_fft, hop, ALIGNED_MELS)
    peak = db.amax(dim=(-2, -1), keepdim=True)
    relative = (db - peak).clamp_min(FLOOR_DB)
    return torch.where(peak < SILENT_DB, torch.full_like(relative, FLOOR_DB), relative)


def _align(relative: torch.Tensor, energy: torch.Tensor) -> torch.Tensor:
    """Frames [peak, peak + ALIGNED_FRAMES) of each clip, padded with the floor past the clip's end."""
    start = energy.argmax(dim=-1)  # (N,)
    padded = torch.nn.functional.pad(relative, (0, ALIGNED_FRAMES), value=FLOOR_DB)
    index = (start[:, None] + torch.arange(ALIGNED_FRAMES, device=start.device))[:, None, :]
    return padded.gather(-1, index.expand(-1, relative.shape[1], -1))


@torch.no_grad()
def aligned_logmel(audio: torch.Tensor, sample_rate: int, batch_size: int = 64) -> torch.Tensor:
    """(N, C, T) float audio at `sample_rate` -> (N, ALIGNED_MELS * ALIGNED_FRAMES) float32 on the CPU."""
    if audio.dim() != 3 or audio.shape[0] == 0 or audio.shape[-1] == 0:
        raise ValueError(f"expected non-empty (N, channels, samples) audio, got shape {tuple(audio.shape)}")
    chunks = []
    for chunk in audio.detach().float().split(batch_size):
        relative = _relative_db(chunk, sample_rate)
        energy = (10.0 ** (relative / 10.0)).sum(dim=1)  # linear power per frame, summed over bands
        chunks.append(_align(relative, energy).flatten(1).cpu())
    return torch.cat(chunks)
