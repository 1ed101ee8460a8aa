"""diffusers' UNet2DModel as a plain network (mel images and latents)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn
from diffusers import UNet2DModel

from src.networks.base import ClassEmbedding, Network
from src.utils.diffusers_config import plain_config

log = logging.getLogger(__name__)


def find_unet_folder(pretrained: str) -> Path:
    """`pretrained` is a diffusers pipeline folder (with `unet/`) or a UNet2DModel folder."""
    folder = Path(pretrained).expanduser()
    if not folder.is_dir():
        raise ValueError(f"pretrained={pretrained}: no such folder (only local folders are read, never a hub)")
    for candidate in (folder / "unet", folder):
        config = candidate / "config.json"
        if config.is_file():
            class_name = UNet2DModel.load_config(str(candidate)).get("_class_name")
            if class_name != "UNet2DModel":
                raise ValueError(f"pretrained={pretrained}: {config} describes a {class_name}, not a UNet2DModel")
            return candidate
    raise ValueError(f"pretrained={pretrained}: neither unet/config.json nor config.json found in the folder")


class UNet2DNetwork(Network):
    """A UNet2DModel over (channels, height, width) tensors.

    Args:
        unet: the network (built from config); may be null when `pretrained` provides it.
        time_scale: c_noise is multiplied by it before the UNet's sinusoidal timestep embedding,
            which is made for diffusers' integer timesteps 0..1000 (the ddpm process's c_noise is
            timestep / 1000, so 1000 gives back the timesteps exactly as diffusers feeds them).
        gradient_checkpointing: recompute activations in backward, trading time for memory.
        channels_last: NHWC memory format, faster convolutions on recent GPUs under mixed precision.
        pretrained: local folder of a diffusers pipeline (`unet/`) or of a UNet2DModel; its
            architecture and weights replace `unet`.
        num_classes: > 0 adds UNet2DModel's class embedding (`num_class_embeds` = classes + the
            null class), added to its time embedding.
    """

    def __init__(self, unet: UNet2DModel | None, time_scale: float = 1000.0, gradient_checkpointing: bool = False,
                 channels_last: bool = False, pretrained: str | None = None, num_classes: int = 0) -> None:
        super().__init__()
        if num_classes < 0:
            raise ValueError(f"num_classes must be 0 (unconditional) or positive, got {num_classes}")
        if pretrained:
            folder = find_unet_folder(pretrained)
            if unet is not None:
                log.info("pretrained=%s: the UNet architecture comes from %s, not from model.network.unet",
                         pretrained, folder)
            # from_pretrained returns the model in eval mode; a network here is trained (Lightning
            # would otherwise fine-tune with dropout off and warn about modules in eval mode)
            unet = UNet2DModel.from_pretrained(str(folder), local_files_only=True).train()
        if not isinstance(unet, UNet2DModel):
            raise ValueError(f"unet must be a diffusers UNet2DModel (or set pretrained=<folder>), got {type(unet)}")
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        plain_config(unet)
        self.unet = unet
        if num_classes:
            self.add_classes(num_classes)
        self.time_scale = time_scale
        self.channels_last = channels_last
        if gradient_checkpointing:
            unet.enable_gradient_checkpointing()
        if channels_last:
            unet.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        ids = self.class_ids(labels, x.shape[0], x.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        timesteps = c_noise.float() * self.time_scale
        out = self.unet(x, timesteps) if ids is None else self.unet(x, timesteps, class_labels=ids)
        return out.sample.to(x.dtype)

    def add_classes(self, num_classes: int) -> None:
        """UNet2DModel's own class embedding (`num_class_embeds`: the classes plus the null class),
        added to its time embedding; recorded in its config, so exports carry it."""
        wanted = num_classes + 1
        have = self.unet.config.num_class_embeds
        if have not in (None, wanted):
            raise ValueError(f"the UNet has num_class_embeds={have}, but {num_classes} classes need {wanted}")
        if have is None:
            self.unet.class_embedding = nn.Embedding(wanted, self.unet.time_embedding.linear_2.out_features)
            self.unet.register_to_config(num_class_embeds=wanted)
        # the same weights, also taking mixing weights (interpolation between classes)
        embedding = ClassEmbedding(wanted, self.unet.class_embedding.embedding_dim)
        embedding.load_state_dict(self.unet.class_embedding.state_dict())
        self.unet.class_embedding = embedding
        self.num_classes = num_classes

    def check_shape(self, shape: tuple[int, ...]) -> None:
        config = self.unet.config
        if len(shape) != 3:
            raise ValueError(f"the UNet2D network needs (channels, height, width) tensors, got shape {shape}")
        if shape[0] != config.in_channels or config.out_channels != config.in_channels:
            raise ValueError(f"the representation gives {shape[0]} channels but the UNet has "
                             f"in_channels={config.in_channels}, out_channels={config.out_channels}")
        factor = 2 ** (len(config.block_out_channels) - 1)
        for name, size in zip(("height", "width"), shape[1:]):
            if size % factor:
                raise ValueError(
                    f"{name} {size} is not a multiple of the UNet's total downsampling {factor} "
                    f"(2 ** (len(block_out_channels) - 1)); change the representation's resolution "
                    "(mel: y_res / x_res, or the audio length) or the number of block_out_channels"
                )
