"""The identity representation: the model diffuses raw waveforms."""

from __future__ import annotations

import torch

from src.representations.base import Representation


class WaveformRepresentation(Representation):
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        return audio

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def tensor_shape(self, length: int | None = None) -> tuple[int, ...]:
        return (self.channels, length or self.length)
