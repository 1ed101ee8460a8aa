"""Loss weighting by level: where a clip is quiet, ask for the same relative precision as where it
is loud.

A plain MSE on the network's target spends the network on loud, noise-like attacks, whose texture
no denoiser can predict, while an error at the level of a quiet tail, or of a band the clip leaves
empty, is what a listener (and a log spectrum) hears as hiss. The weighting scales the
squared error at a place by sigma^2 / (alpha^2 P + sigma^2), P the clean tensor's power there
(alpha^2 P is the signal's power in x_t): about 1
where the noise has buried the signal, small where the signal stands above it. Weights are
renormalised to mean 1 per item, so each noise level keeps its share of the loss."""

from __future__ import annotations

import torch


def buried_share(power: torch.Tensor, noise_power: torch.Tensor) -> torch.Tensor:
    """noise / (power + noise), renormalised to mean 1 over every axis but the first."""
    weights = noise_power / (power + noise_power)
    return weights / weights.mean(dim=tuple(range(1, weights.dim())), keepdim=True)


class SpectralLevelWeighting:
    """Weights each time-frequency bin of the error's short-time spectrum (Hann window of `n_fft`
    samples, hop n_fft / 4) by the clean tensor's power in that bin, against the power unit noise
    of level sigma puts there. It sees both a quiet tail and an empty band (a hat has no lows), and
    is for waveform tensors (batch, channels, samples). `plain_share` in [0, 1) mixes in that share
    of the plain MSE, so loud bins keep some weight: noise-like hits (snares, hats) need their
    texture where they are loud as much as silence where they are not."""

    def __init__(self, n_fft: int, plain_share: float = 0.0) -> None:
        if n_fft < 4 or n_fft % 4:
            raise ValueError(f"process.weighting.n_fft must be a multiple of 4, at least 4; got {n_fft}")
        if not 0.0 <= plain_share < 1.0:
            raise ValueError(f"process.weighting.plain_share must be in [0, 1), got {plain_share}")
        self.n_fft = n_fft
        self.plain_share = plain_share
        self.window = torch.hann_window(n_fft)
        self.window_power = float(self.window.pow(2).sum())  # what unit white noise puts in every bin

    def spectrum(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        window = self.window.to(device=x.device, dtype=x.dtype)
        stft = torch.stft(flat, self.n_fft, self.n_fft // 4, window=window, return_complex=True)
        return stft.abs().pow(2).reshape(x.shape[0], -1, *stft.shape[-2:])

    def __call__(self, error: torch.Tensor, x0: torch.Tensor, alpha: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        if x0.dim() != 3:
            raise ValueError(f"SpectralLevelWeighting is for waveform tensors (batch, channels, samples), got {tuple(x0.shape)}")
        noise_power = sigma.reshape(-1, 1, 1, 1).pow(2) * self.window_power
        weights = buried_share(alpha.reshape(-1, 1, 1, 1).pow(2) * self.spectrum(x0), noise_power)
        weighted = (self.spectrum(error) * weights).mean() / self.window_power
        if not self.plain_share:
            return weighted
        return self.plain_share * error.pow(2).mean() + (1 - self.plain_share) * weighted
