"""A circular MDCT: an orthogonal, critically sampled filterbank for waveforms.

Frames of 2N samples at hop N, a window meeting the Princen-Bradley condition and the MDCT basis:
every sample lies in two frames whose aliasing cancels on overlap-add. The window is the sine window,
or a Kaiser-Bessel-derived (KBD) one, whose far sidelobes are much lower: under a sine window a
steady low tone leaks into every band at about -50 dB (the coefficients cancel on the inverse, so
the audio stays clean, but a model has to reproduce them exactly); under KBD (alpha 4) it is -76 dB.
The last frame wraps around to the clip's start, so L samples give exactly L / N frames of N
coefficients and the transform is a square orthogonal matrix: unit white noise in samples is unit
white noise in coefficients, and the diffusion processes need no change to run on them."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def mdct_window(bands: int, kbd_alpha: float = 0.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(2N,) analysis and synthesis window with w[n]^2 + w[n + N]^2 = 1: the sine window for
    kbd_alpha 0, else the KBD window, the square root of a Kaiser window's running sum (AAC uses
    alpha 4 and 6)."""
    if kbd_alpha == 0:
        return torch.sin(math.pi * (torch.arange(2 * bands, dtype=dtype) + 0.5) / (2 * bands))
    kaiser = torch.kaiser_window(bands + 1, periodic=False, beta=math.pi * kbd_alpha, dtype=dtype)
    half = (kaiser[:bands].cumsum(0) / kaiser.sum()).sqrt()
    return torch.cat([half, half.flip(0)])


def mdct_basis(bands: int, kbd_alpha: float = 0.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(2N, N) windowed MDCT basis, scaled so the lapped transform is orthogonal."""
    n = torch.arange(2 * bands, dtype=dtype)[:, None]
    k = torch.arange(bands, dtype=dtype)[None, :]
    window = mdct_window(bands, kbd_alpha, dtype)[:, None]
    return math.sqrt(2.0 / bands) * window * torch.cos(math.pi / bands * (n + 0.5 + bands / 2) * (k + 0.5))


class CircularMDCT(torch.nn.Module):
    """(batch, channels, L) samples <-> (batch, channels * N, L / N) coefficients, channel c's band k
    at channel c * N + k (low bands first). L must be a multiple of N. `kbd_alpha` 0 is the sine
    window, > 0 a KBD window of that alpha."""

    def __init__(self, bands: int, kbd_alpha: float = 0.0) -> None:
        super().__init__()
        if bands < 2 or bands % 2:
            raise ValueError(f"mdct_bands must be an even number of at least 2, got {bands}")
        if not (math.isfinite(kbd_alpha) and kbd_alpha >= 0):
            raise ValueError(f"mdct_kbd_alpha must be 0 (sine window) or positive, got {kbd_alpha}")
        self.bands = bands
        self.kbd_alpha = kbd_alpha
        self.register_buffer("basis", mdct_basis(bands, kbd_alpha).float(), persistent=False)

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
