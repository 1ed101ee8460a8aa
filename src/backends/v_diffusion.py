"""audio-diffusion-pytorch's UNetV0 trained with v-diffusion and sampled with its VSampler."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from audio_diffusion_pytorch import DiffusionModel, UNetV0, VDiffusion, VSampler

from src.backends.base import DiffusionBackend


class VDiffusionBackend(DiffusionBackend):
    """A 1D (or 2D with dim=2) UNetV0 learning v-objective diffusion.

    Each list holds one entry per UNet level: `channels` (width), `factors` (downsampling),
    `items` (resnet blocks) and `attentions` (1 enables self-attention at that level)."""

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
        self.downsampling = math.prod(factors)
        self.in_channels = in_channels
        self.model = DiffusionModel(
            net_t=UNetV0,
            diffusion_t=VDiffusion,
            sampler_t=VSampler,
            dim=dim,
            in_channels=in_channels,
            channels=list(channels),
            factors=list(factors),
            items=list(items),
            attentions=list(attentions),
            attention_heads=attention_heads,
            attention_features=attention_features,
            resnet_groups=resnet_groups,
            modulation_features=modulation_features,
        )

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    @torch.no_grad()
    def sample(self, noise: torch.Tensor, steps: int, progress: bool = False, sampler: str | None = None,
               eta: float | None = None) -> torch.Tensor:
        if sampler is not None or eta is not None:
            raise ValueError("sampler and eta apply to mel and latent (UNet2D) models; "
                             "v-diffusion samples with its deterministic VSampler")
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        return self.model.sample(noise, num_steps=steps, show_progress=progress)

    def noise_levels(self, steps: int) -> torch.Tensor:
        # VSampler's linear schedule: t runs from 1 (pure noise) to 0 (clean).
        return torch.linspace(1.0, 0.0, steps + 1)

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        angle = t * math.pi / 2
        return torch.cos(angle), torch.sin(angle)

    def predict(self, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(t, dtype=x_t.dtype, device=x_t.device)
        v = self.model.net(x_t, t.expand(x_t.shape[0]))
        alpha, sigma = self.alpha_sigma(t)
        return alpha * x_t - sigma * v, sigma * x_t + alpha * v

    def check_shape(self, shape: tuple[int, ...]) -> None:
        if shape[0] != self.in_channels:
            raise ValueError(f"the representation gives {shape[0]} channels but the UNet has in_channels={self.in_channels}")
        for size in shape[1:]:
            if size % self.downsampling:
                raise ValueError(
                    f"length {size} is not a multiple of the UNet's total downsampling {self.downsampling} "
                    "(the product of factors); change the audio length or the factors"
                )
