"""A clip's lowest frequencies as decimated samples, beside an MDCT of the rest.

An MDCT with short frames (64 samples at 16 kHz for 32 bands) cannot resolve a kick's 50 Hz tone: a
frame holds a quarter of its period, so the tone spreads over the lowest four or five bands, and how
those coefficients cancel on the inverse depends on their exact values. A model that gives them the
right power but not those values leaves a floor across the low-mids under every kick (with the
lowest four bands' signs scrambled, held-out kicks score a Fréchet ratio of 131 on the project's
scale: benchmarks/waveform_coherence.py). Below a cut-off the clip is smooth, so it travels instead
as its own samples at a low rate, in channels aligned with the MDCT's frames: a conv net draws a
sine there as it would on raw samples, and the MDCT keeps only what lies above (with two bands'
worth split off, the same scrambling scores 1.17)."""

from __future__ import annotations

import math

import torch

# The low path passes everything below this share of its cut-off and fades to nothing at the cut-off
# (a raised cosine): the fade keeps the split's ringing to a few frames, and nothing at or above the
# cut-off means the decimated samples hold the low path exactly.
PASS_SHARE = 0.75


class LowBandSplit(torch.nn.Module):
    """(batch, channels, L) audio -> (batch, channels * k, L / N) low-path samples and the audio less
    its low path, for an MDCT of N bands and k = `low_bands`: the low path keeps frequencies below
    k * rate / (2 N), sampled every N / k samples and folded so that column j holds the k samples of
    MDCT hop j. Scaled so the low path is an isometry: unit white noise in the channels decodes to
    unit white noise below the cut-off."""

    def __init__(self, bands: int, low_bands: int, sub_bands: int = 0) -> None:
        super().__init__()
        if low_bands < 1 or bands % low_bands:
            raise ValueError(f"mdct_low_bands must divide mdct_bands={bands} (1, 2, 4, ...), got {low_bands}")
        if sub_bands and (sub_bands >= low_bands or low_bands % sub_bands):
            raise ValueError(f"mdct_low_sub_bands must be 0 (off) or divide mdct_low_bands={low_bands} and be "
                             f"smaller, got {sub_bands}")
        self.bands, self.low_bands = bands, low_bands
        self.step = bands // low_bands
        # The lowest sub_bands' worth of the low path as its own, slower channels: see `forward`.
        self.sub = LowBandSplit(bands, sub_bands) if sub_bands else None

    @property
    def rows(self) -> int:
        """Model-tensor rows per audio channel: the low path's, plus the sub path's."""
        return self.low_bands + (self.sub.low_bands if self.sub is not None else 0)

    def response(self, length: int, dtype: torch.dtype) -> torch.Tensor:
        """The low path's gain at each rfft bin of `length` samples: 1, a raised-cosine fade, then 0."""
        frequency = torch.arange(length // 2 + 1, dtype=torch.float64) / length  # cycles per sample
        cut = 0.5 / self.step  # the decimated rate's Nyquist frequency
        fade = ((cut - frequency) / (cut * (1 - PASS_SHARE))).clamp(0, 1)
        return (0.5 - 0.5 * torch.cos(math.pi * fade)).to(dtype)

    def low_path(self, audio: torch.Tensor) -> torch.Tensor:
        """The audio below the cut-off, at the full rate (circular, as the MDCT is)."""
        length = audio.shape[-1]
        return torch.fft.irfft(torch.fft.rfft(audio) * self.response(length, audio.dtype), n=length)

    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(low-path rows, the audio less its low path). With a sub path, the part below its own
        cut-off travels in its rows (first) and the low path's rows hold the rest, so each of the two
        ranges has its own rows, and a gated process its own level for each: a kick's tone opens the
        lower one while the upper one, which a kick leaves empty, can stay shut."""
        low = self.low_path(audio)
        if self.sub is None:
            return self.fold(low), audio - low
        under = self.sub.low_path(audio)
        return torch.cat([self.sub.fold(under), self.fold(low - under)], dim=1), audio - low

    def fold(self, low: torch.Tensor) -> torch.Tensor:
        """(B, C, L) audio band-limited below the cut-off -> (B, C * low_bands, L / bands) samples."""
        batch, channels, length = low.shape
        samples = low[..., :: self.step] * math.sqrt(self.step)  # (B, C, L / step)
        folded = samples.reshape(batch, channels, length // self.bands, self.low_bands).transpose(-1, -2)
        return folded.reshape(batch, channels * self.low_bands, length // self.bands)

    def inverse(self, rows: torch.Tensor) -> torch.Tensor:
        """Low-path rows (as `forward` makes them) -> (batch, channels, L) audio."""
        if self.sub is None:
            return self.unfold(rows)
        split = rows.shape[1] // self.rows * self.sub.low_bands
        return self.sub.unfold(rows[:, :split]) + self.unfold(rows[:, split:])

    def unfold(self, folded: torch.Tensor) -> torch.Tensor:
        """`fold`'s rows -> (batch, channels, L) audio, by band-limited (FFT) interpolation."""
        batch, rows, frames = folded.shape
        channels = rows // self.low_bands
        samples = folded.reshape(batch, channels, self.low_bands, frames).transpose(-1, -2).reshape(batch, channels, -1)
        length = frames * self.bands
        spectrum = torch.fft.rfft(samples / math.sqrt(self.step))
        padded = spectrum.new_zeros(batch, channels, length // 2 + 1)
        padded[..., : spectrum.shape[-1] - 1] = spectrum[..., :-1]  # not the Nyquist bin: the low path has none
        return torch.fft.irfft(padded, n=length) * self.step
