"""What the diffusion model sees: audio goes in through `encode`, comes back through `decode`.

Every family (waveform, mel, latent) implements this, so training, sampling and the
generation modes are written once against it."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn


class Representation(nn.Module, ABC):
    """Maps audio batches (batch, channels, samples) to model tensors and back."""

    def __init__(self, sample_rate: int, channels: int, length: int) -> None:
        super().__init__()
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 (mono) or 2 (stereo), got {channels}")
        if length <= 0:
            raise ValueError(f"length must be a positive number of samples, got {length}")
        self.sample_rate = sample_rate
        self.channels = channels
        self.length = length

    @abstractmethod
    def encode(self, audio: torch.Tensor) -> torch.Tensor:
        """(batch, channels, samples) audio -> model tensor."""

    @abstractmethod
    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Model tensor -> (batch, channels, samples) audio."""

    @abstractmethod
    def tensor_shape(self, length: int | None = None) -> tuple[int, ...]:
        """Shape of one encoded item (no batch dim) for `length` audio samples (default: training length)."""

    def finish(self, audio: torch.Tensor) -> torch.Tensor:
        """Clips sampled from noise, decoded, as they are handed out (generate.py, validation
        samples): unchanged here. The generation modes, which keep or reproduce input audio
        (variation at strength 0, interpolation's ends, inpainting's kept spans), never apply it."""
        return audio

    def image(self, x: torch.Tensor) -> torch.Tensor | None:
        """An 8-bit (H, W) picture of one model tensor, for representations that are images
        (the generated mel itself, not a spectrogram of its audio); None for the others."""
        return None

    def time_mask(self, keep: torch.Tensor) -> torch.Tensor:
        """Map a per-sample keep mask (bool, audio samples) onto the model tensor's time axis.

        Every family puts time on the last axis. A model column is kept only when every
        audio sample it covers is kept, so nothing of the region to regenerate is frozen."""
        columns = self.tensor_shape(keep.shape[-1])[-1]
        edges = torch.linspace(0, keep.shape[-1], columns + 1).round().long()
        kept = torch.tensor([bool(keep[a:max(b, a + 1)].all()) for a, b in zip(edges[:-1], edges[1:])])
        return kept.float()

