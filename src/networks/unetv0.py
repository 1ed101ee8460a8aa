"""audio-diffusion-pytorch's UNetV0 (1D for waveforms, or 2D) as a plain network."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from audio_diffusion_pytorch import UNetV0

from src.networks.base import Network


class UNetV0Network(Network):
    """UNetV0 with one entry per level in each list: `channels` (width), `factors` (downsampling),
    `items` (resnet blocks) and `attentions` (1 enables self-attention at that level).

    Its noise embedding is a learned Fourier feature of c_noise, made for values in about [0, 1]
    (the range v-diffusion feeds it); every process keeps c_noise near that range."""

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        factors: Sequence[int],
        items: Sequence[int],
        attentions: Sequence[int],
        attention_heads: int = 8,
        attention_features: int = 64,
        resnet_groups: int = 8,
        modulation_features: int = 1024,
        dim: int = 1,
    ) -> None:
        super().__init__()
        lists = {"channels": channels, "factors": factors, "items": items, "attentions": attentions}
        lengths = {name: len(value) for name, value in lists.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"UNet level lists must have equal lengths, got {lengths}")
        bad_groups = [c for c in channels if c % resnet_groups]
        if bad_groups:
            raise ValueError(f"every entry of channels must be divisible by resnet_groups={resnet_groups}: {bad_groups}")
        if any(a for a in attentions) and attention_heads * attention_features <= 0:
            raise ValueError("attention_heads and attention_features must be positive when attentions are on")
        if dim not in (1, 2):
            raise ValueError(f"dim must be 1 (waveforms) or 2 (images), got {dim}")
        self.downsampling = math.prod(factors)
        self.in_channels = in_channels
        self.net = UNetV0(
            dim=dim, in_channels=in_channels, channels=list(channels), factors=list(factors), items=list(items),
            attentions=list(attentions), attention_heads=attention_heads, attention_features=attention_features,
            resnet_groups=resnet_groups, modulation_features=modulation_features,
        )

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        return self.net(x, c_noise.to(x.dtype))

    def check_shape(self, shape: tuple[int, ...]) -> None:
        if shape[0] != self.in_channels:
            raise ValueError(f"the representation gives {shape[0]} channels but the UNet has in_channels={self.in_channels}")
        for size in shape[1:]:
            if size % self.downsampling:
                raise ValueError(
                    f"length {size} is not a multiple of the UNet's total downsampling {self.downsampling} "
                    "(the product of factors); change the audio length or the factors"
                )
