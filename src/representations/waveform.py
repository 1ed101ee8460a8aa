"""The waveform representation: the model diffuses raw samples, times a fixed gain."""

from __future__ import annotations

import math

import torch

from src.representations.base import Representation


class WaveformRepresentation(Representation):
    """Args as Representation, plus:
        scale: model tensors are audio * scale. Diffusion processes are tuned for data of about unit
            spread (v_cosine and ddpm add unit noise; edm expects sigma_data), while one-shots spend
            most of their length decaying towards silence: a clip set with an RMS of 0.15 trains on
            noise levels far above its own for most of a run. 1 keeps the audio as it is.
        mu_law: > 0 compands samples first, sign(a) * log(1 + mu |a|) / log(1 + mu) (mu = 255 is
            8-bit mu-law), and expands them back when decoding. A one-shot spans 50 dB or more from
            its attack to its tail; in raw samples the network's error at the tail's level is audible
            as a constant hiss. Companded, quiet samples are large, and an error near silence shrinks
            by about log(1 + mu) / mu (46x at 255) when expanded. 0 (default): raw samples.
    """

    def __init__(self, sample_rate: int, channels: int, length: int, scale: float = 1.0,
                 mu_law: float = 0.0) -> None:
        super().__init__(sample_rate, channels, length)
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"model.representation.scale must be a positive number, got {scale}")
        if not (math.isfinite(mu_law) and mu_law >= 0):
            raise ValueError(f"model.representation.mu_law must be 0 (off) or positive, got {mu_law}")
        self.scale = scale
        self.mu_law = mu_law

    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        if self.mu_law:
            audio = audio.sign() * torch.log1p(self.mu_law * audio.abs()) / math.log1p(self.mu_law)
        return audio * self.scale if self.scale != 1.0 else audio

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        x = x / self.scale if self.scale != 1.0 else x
        if self.mu_law:  # clamped: expansion is exponential, and a sample beyond full scale is clipped anyway
            x = x.clamp(-1.0, 1.0)
            x = x.sign() * torch.expm1(x.abs() * math.log1p(self.mu_law)) / self.mu_law
        return x

    def tensor_shape(self, length: int | None = None) -> tuple[int, ...]:
        return (self.channels, length or self.length)
