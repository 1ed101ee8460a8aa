"""How close rebuilt audio (Griffin-Lim from a mel image, a VAE round trip) is to the original.

Audio rebuilt from a mel image has an arbitrary level (the image stores dB relative to its own
peak), so both measures fit the estimate's level to the reference's first."""

from __future__ import annotations

import torch

from src.audio.spectrogram import log_mel


def _to_reference_length(reference: torch.Tensor, estimate: torch.Tensor) -> torch.Tensor:
    """The estimate cut or zero-padded to the reference's length: missing audio counts as error."""
    missing = reference.shape[-1] - estimate.shape[-1]
    return torch.nn.functional.pad(estimate, (0, missing)) if missing > 0 else estimate[..., : reference.shape[-1]]


def magnitudes(audio: torch.Tensor, n_fft: int, hop_length: int) -> torch.Tensor:
    """(..., T) audio -> (..., freq, frames) STFT magnitudes: periodic Hann window, centred frames
    with zero padding (librosa >= 0.10, the mel representation's own analysis)."""
    flat = audio.reshape(-1, audio.shape[-1]).float()
    window = torch.hann_window(n_fft, periodic=True, device=audio.device)
    spec = torch.stft(flat, n_fft, hop_length, window=window, center=True, pad_mode="constant", return_complex=True)
    return spec.abs().reshape(audio.shape[:-1] + spec.shape[-2:])


def level_gain(ref: torch.Tensor, est: torch.Tensor) -> torch.Tensor:
    """Per item least-squares gain of `est` onto `ref` magnitudes (..., freq, frames) -> (..., 1, 1)."""
    return (ref * est).sum(dim=(-2, -1), keepdim=True) / est.square().sum(dim=(-2, -1), keepdim=True).clamp_min(1e-20)


@torch.no_grad()
def spectral_convergence(reference: torch.Tensor, estimate: torch.Tensor, n_fft: int, hop_length: int,
                         match_level: bool = True) -> torch.Tensor:
    """|| |S_ref| - g |S_est| ||_F / || |S_ref| ||_F per item, (..., T) -> (...); g is the
    least-squares gain when `match_level`, else 1."""
    ref = magnitudes(reference, n_fft, hop_length)
    est = magnitudes(_to_reference_length(reference, estimate), n_fft, hop_length)
    if match_level:
        est = est * level_gain(ref, est)
    return (ref - est).norm(dim=(-2, -1)) / ref.norm(dim=(-2, -1)).clamp_min(1e-20)


@torch.no_grad()
def mel_l1_db(reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int, n_fft: int, hop_length: int,
              n_mels: int, top_db: float) -> torch.Tensor:
    """Per item mean |log-mel(reference) - log-mel(estimate)| in dB of (batch, samples) audio, after
    level matching; both floored `top_db` below the reference's peak, the range a mel image keeps."""
    reference, estimate = reference.float(), _to_reference_length(reference, estimate).float()
    gain = level_gain(magnitudes(reference, n_fft, hop_length), magnitudes(estimate, n_fft, hop_length))
    estimate = estimate * gain[..., 0]
    ref_db = log_mel(reference[:, None], sample_rate, n_fft, hop_length, n_mels)
    est_db = log_mel(estimate[:, None], sample_rate, n_fft, hop_length, n_mels)
    floor = ref_db.amax(dim=(-2, -1), keepdim=True) - top_db
    return (ref_db.maximum(floor) - est_db.maximum(floor)).abs().mean(dim=(-2, -1))
