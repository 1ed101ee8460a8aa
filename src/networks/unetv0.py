"""audio-diffusion-pytorch's UNetV0 (1D for waveforms, or 2D) as a plain network."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from audio_diffusion_pytorch import UNetV0
from torch.utils.checkpoint import checkpoint

from src.networks.base import ClassEmbedding, Network, local_power, log_level
from src.networks.null_head import NullFromInput, null_from_input


class UNetV0Network(Network):
    """UNetV0 with one entry per level in each list: `channels` (width), `factors` (downsampling),
    `items` (resnet blocks) and `attentions` (1 enables self-attention at that level).

    Its noise embedding is a learned Fourier feature of c_noise, made for values in about [0, 1]
    (the range v-diffusion feeds it); every process keeps c_noise near that range.

    `position_features` > 0 appends that many fixed channels to the input, cos(pi * k * u) for
    k = 1..n over the clip's time axis u in [0, 1]. Convolutions only sense position near the clip's
    edges, so without them a one-shot's tail cannot tell it should be decaying: the model fills it
    with a level hiss. 0 (the default, and every earlier checkpoint) is UNetV0 unchanged.

    `level_features` appends, for each input channel, the log of its power over `level_window` (odd)
    neighbouring frames: the noisy input's local level, which a gate (below) needs to tell a tail
    that still rings from one that has stopped. A UNet's convolutions can only build a level from
    products of samples over several layers; with position channels the waveform demo's network
    never did, and drew one envelope per class whatever its input (benchmarks/README.md, "the
    input's level"). False (the default, and every earlier checkpoint) is UNetV0 unchanged.

    `patch_size` > 1 folds every `patch_size` consecutive samples into channels before the UNet and
    unfolds its output the same way (1D only): the UNet runs at 1/patch_size of the sample rate,
    where its first convolutions can learn filters across the patch. The fold is a permutation, so
    unit noise stays unit noise; each level costs about patch_size times less, which on a small CPU
    budget buys more training steps. 1 (the default, and every earlier checkpoint) is UNetV0 unchanged.

    `input_gain` doubles the UNet's output channels into a residual r and a gain g, and returns
    r + g * x: each sample of the input is passed on with a gain the network sets. Where a one-shot
    has decayed, the clean target of every process is a multiple of the noisy input there (v-diffusion's
    v = (alpha / sigma) x_t in a silent stretch), which a plain UNet must rebuild sample by sample
    through its convolutions; with the gain it is one smooth value per stretch. False (the default,
    and every earlier checkpoint) is UNetV0 unchanged.

    `gate` doubles the UNet's output channels and returns both halves: the prediction and, per
    element, the log of the clean signal's power, which a gated process turns into a Wiener skip
    (src/processes/gate.py). False (the default, and every earlier checkpoint) is UNetV0 unchanged.

    `num_classes` > 0 learns one embedding per class (plus the null class), added to the
    noise-level features that modulate every block. `null_from_input` replaces the null label's
    one vector by the class vectors weighted by a small classifier of the noisy input, trained by
    `class_loss` (src/networks/null_head.py). False (the default, and every earlier checkpoint)
    keeps the vector.

    `gradient_checkpointing` keeps only the UNet's inputs during the forward pass and recomputes
    its activations in backward (UNetV0 has no checkpointing of its own): far less memory for about
    one more forward pass per step."""

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
        position_features: int = 0,
        level_features: bool = False,
        level_window: int = 5,
        patch_size: int = 1,
        input_gain: bool = False,
        gate: bool = False,
        num_classes: int = 0,
        null_from_input: bool = False,
        gradient_checkpointing: bool = False,
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
        if num_classes < 0:
            raise ValueError(f"num_classes must be 0 (unconditional) or positive, got {num_classes}")
        if null_from_input and not num_classes:
            raise ValueError("null_from_input reads the null label off the input of a class-conditional network: "
                             "it needs num_classes > 0 (set datamodule.dataset.labels)")
        if patch_size < 1 or (patch_size > 1 and dim != 1):
            raise ValueError(f"patch_size must be 1 (off) or, for waveforms (dim=1), larger, got {patch_size} with dim={dim}")
        if input_gain and gate:
            raise ValueError("input_gain and gate both claim the UNet's second set of output channels: choose one")
        if level_window < 1 or level_window % 2 == 0:
            raise ValueError(f"level_window must be an odd number of frames, got {level_window}")
        if position_features < 0:
            raise ValueError(f"position_features must be 0 (off) or positive, got {position_features}")
        self.downsampling = math.prod(factors) * patch_size  # in samples
        self.patch_size = patch_size
        self.in_channels = in_channels
        self.position_features = position_features
        self.level_features, self.level_window = level_features, level_window
        self.input_gain = input_gain
        self.gate = gate
        self.num_classes = num_classes
        self.gradient_checkpointing = gradient_checkpointing
        # one learned vector per class plus the null class, added to the noise-level features
        self.class_embedding = ClassEmbedding(num_classes + 1, modulation_features) if num_classes else None
        self.null_head = NullFromInput(in_channels * patch_size, num_classes, window=level_window) if null_from_input else None
        self.reads_classes = null_from_input
        self.net = UNetV0(
            dim=dim, in_channels=in_channels * patch_size * (2 if level_features else 1) + position_features,
            out_channels=in_channels * patch_size * (2 if input_gain or gate else 1), channels=list(channels), factors=list(factors), items=list(items),
            attentions=list(attentions), attention_heads=attention_heads, attention_features=attention_features,
            resnet_groups=resnet_groups, modulation_features=modulation_features,
        )

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        ids = self.class_ids(labels, x.shape[0], x.device)
        length = x.shape[-1]
        x = self.fold(x)
        inputs = torch.cat([x, self.levels(x)], dim=1) if self.level_features else x
        inputs = torch.cat([inputs, self.positions(x)], dim=1) if self.position_features else inputs
        features = None if ids is None else self.class_features(ids, x, c_noise).to(x.dtype)
        if self.gradient_checkpointing and torch.is_grad_enabled():
            y = checkpoint(self._unet, inputs, c_noise.to(x.dtype), features, use_reentrant=False)
        else:
            y = self._unet(inputs, c_noise.to(x.dtype), features)
        if self.input_gain:
            residual, gain = y.chunk(2, dim=1)
            y = residual + gain * x
        return self.unfold(y, length)

    def class_features(self, ids: torch.Tensor, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        if self.null_head is None:
            return self.class_embedding(ids)
        return null_from_input(self.class_embedding, self.null_head, ids, x, c_noise)

    def class_loss(self, x: torch.Tensor, c_noise: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """The null label's classifier's cross-entropy on the true `classes` of noisy inputs x."""
        if self.null_head is None:
            return super().class_loss(x, c_noise, classes)
        return torch.nn.functional.cross_entropy(self.null_head.logits(self.fold(x), c_noise), classes)

    def fold(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, C, L) -> (batch, C * p, L / p): channel c, offset j of each patch goes to channel c * p + j."""
        if self.patch_size == 1:
            return x
        batch, channels, length = x.shape
        frames = x.reshape(batch, channels, length // self.patch_size, self.patch_size)
        return frames.permute(0, 1, 3, 2).reshape(batch, channels * self.patch_size, length // self.patch_size)

    def unfold(self, y: torch.Tensor, length: int) -> torch.Tensor:
        """The inverse of `fold`, for any number of signals folded alike (a gated output holds two)."""
        if self.patch_size == 1:
            return y
        batch, channels = y.shape[0], y.shape[1] // self.patch_size
        frames = y.reshape(batch, channels, self.patch_size, length // self.patch_size)
        return frames.permute(0, 1, 3, 2).reshape(batch, channels, length)

    def _unet(self, x: torch.Tensor, c_noise: torch.Tensor, features: torch.Tensor | None) -> torch.Tensor:
        return self.net(x, c_noise) if features is None else self.net(x, c_noise, features=features)

    def levels(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, channels, *spatial): each channel's local log power, scaled near unit range."""
        return log_level(local_power(x, self.level_window))

    def positions(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, position_features, *spatial) cosines along the last axis, broadcast over the rest."""
        u = torch.linspace(0.0, 1.0, x.shape[-1], device=x.device, dtype=x.dtype)
        k = torch.arange(1, self.position_features + 1, device=x.device, dtype=x.dtype)
        features = torch.cos(math.pi * k[:, None] * u[None, :])
        shape = (x.shape[0], self.position_features, *x.shape[2:])
        return features.view(1, self.position_features, *([1] * (x.dim() - 3)), x.shape[-1]).expand(shape)

    def check_shape(self, shape: tuple[int, ...]) -> None:
        if shape[0] != self.in_channels:
            raise ValueError(f"the representation gives {shape[0]} channels but the UNet has in_channels={self.in_channels}")
        for size in shape[1:]:
            if size % self.downsampling:
                raise ValueError(
                    f"length {size} is not a multiple of the UNet's total downsampling {self.downsampling} "
                    "(the product of factors, times patch_size); change the audio length, the factors or patch_size"
                )
