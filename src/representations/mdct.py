"""A circular MDCT: an orthogonal, critically sampled filterbank for waveforms.

Frames of 2N samples at hop N, a sine window and the MDCT basis (Princen-Bradley): every sample
lies in two frames whose aliasing cancels on overlap-add. The last frame wraps around to the clip's
start, so L samples give exactly L / N frames of N coefficients and the transform is a square
orthogonal matrix: unit white noise in samples is unit white noise in coefficients, and the
diffusion processes need no change to run on them."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def mdct_basis(bands: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(2N, N) windowed MDCT basis, scaled so the lapped transform is orthogonal."""
    n = torch.arange(2 * bands, dtype=dtype)[:, None]
    k = torch.arange(bands, dtype=dtype)[None, :]
    window = torch.sin(math.pi * (n + 0.5) / (2 * bands))
    return math.sqrt(2.0 / bands) * window * torch.cos(math.pi / bands * (n + 0.5 + bands / 2) * (k + 0.5))


class CircularMDCT(torch.nn.Module):
    """(batch, channels, L) samples <-> (batch, channels * N, L / N) coefficients, channel c's band k
    at channel c * N + k (low bands first). L must be a multiple of N."""

    def __init__(self, bands: int) -> None:
        super().__init__()
        if bands < 2 or bands % 2:
            raise ValueError(f"mdct_bands must be an even number of at least 2, got {bands}")
        self.bands = bands
        self.register_buffer("basis", mdct_basis(bands).float(), persistent=False)

    def check_length(self, length: int) -> None:
        if length % self.bands:
            raise ValueError(f"audio.length {length} is not a multiple of mdct_bands={self.bands}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, length = x.shape
        self.check_length(length)
        wrapped = torch.cat([x, x[..., : self.bands]], dim=-1)
        frames = wrapped.unfold(-1, 2 * self.bands, self.bands)  # (B, C, M, 2N)
        coefficients = frames @ self.basis.to(x.dtype)  # (B, C, M, N)
        return coefficients.transpose(-1, -2).reshape(batch, channels * self.bands, length // self.bands)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        batch, rows, frames = y.shape
        channels, n = rows // self.bands, self.bands
        coefficients = y.reshape(batch * channels, n, frames).transpose(-1, -2)  # (B*C, M, N)
        pieces = (coefficients @ self.basis.to(y.dtype).T).transpose(-1, -2)  # (B*C, 2N, M)
        length = frames * n
        added = F.fold(pieces, (1, length + n), kernel_size=(1, 2 * n), stride=(1, n)).reshape(batch * channels, -1)
        audio = added[:, :length].clone()
        audio[:, :n] += added[:, length:]  # the wrapped half of the last frame
        return audio.reshape(batch, channels, length)
