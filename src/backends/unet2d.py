"""A diffusers `UNet2DModel` trained with a `DDPMScheduler` and sampled with DDPM or DDIM.

This is teticio/audio-diffusion's recipe: images (mel spectrograms, or latents of them) are
noised by the training scheduler and the UNet learns epsilon (or v, or the clean sample,
following the scheduler's `prediction_type`)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel
from diffusers.configuration_utils import ConfigMixin
from diffusers.schedulers.scheduling_utils import SchedulerMixin
from omegaconf import DictConfig, ListConfig, OmegaConf
from tqdm import tqdm

from src.backends.base import DiffusionBackend

log = logging.getLogger(__name__)

# Samplers built from the training scheduler's config at sampling time.
SAMPLERS: dict[str, type[SchedulerMixin]] = {"ddpm": DDPMScheduler, "ddim": DDIMScheduler}
PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")
Generators = torch.Generator | list[torch.Generator]


def check_sampler(sampler: str, eta: float) -> None:
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {sorted(SAMPLERS)}, got {sampler!r}")
    if eta < 0:
        raise ValueError(f"eta must be >= 0 (0 = deterministic DDIM), got {eta}")
    if sampler != "ddim" and eta != 0:
        raise ValueError(f"eta={eta} only applies to sampler=ddim, but sampler={sampler}")


def noise_seeded_generators(noise: torch.Tensor) -> list[torch.Generator]:
    """One CPU generator per item, seeded by a hash of that item's noise.

    Step noise (DDPM, DDIM with eta > 0) then depends only on the initial noise of the same
    clip: whoever seeds the noise (generate.py's seed, the sample logger's fixed noise) fixes
    the whole trajectory, independent of batch size and device."""
    generators = []
    for item in noise.detach().float().cpu():
        digest = hashlib.sha256(item.contiguous().numpy().tobytes()).digest()
        generators.append(torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1))
    return generators


def plain_config(component: ConfigMixin) -> None:
    """Hydra passes lists as ListConfig; diffusers stores them in the component's config, which
    then cannot be written as JSON (save_pretrained, pipeline export). Store plain values."""
    containers = {key: OmegaConf.to_container(value) for key, value in component.config.items()
                  if isinstance(value, (DictConfig, ListConfig))}
    if containers:
        component.register_to_config(**containers)


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


def load_pretrained_scheduler(pretrained: str) -> DDPMScheduler | None:
    """The training scheduler saved with a pipeline (its `scheduler/` folder), as a DDPMScheduler."""
    folder = Path(pretrained).expanduser() / "scheduler"
    if not (folder / "scheduler_config.json").is_file():
        return None
    return DDPMScheduler.from_config(DDPMScheduler.load_config(str(folder)))


class UNet2DBackend(DiffusionBackend):
    """`unet` learns to denoise images noised by `scheduler` (a DDPMScheduler: its betas,
    `num_train_timesteps` and `prediction_type` define training and sampling alike).

    Args:
        unet: the network (built from config); may be null when `pretrained` provides it.
        scheduler: the training noise schedule.
        sampler: default sampler, a key of SAMPLERS ("ddim" or "ddpm").
        eta: DDIM noise (0 = deterministic); only for sampler=ddim.
        gradient_checkpointing: recompute activations in backward, trading time for memory.
        channels_last: NHWC memory format, faster convolutions on recent GPUs under mixed precision.
        pretrained: local folder of a diffusers pipeline (`unet/`, optional `scheduler/`) or of a
            UNet2DModel; its architecture and weights replace `unet`, its scheduler replaces `scheduler`.
    """

    def __init__(
        self,
        unet: UNet2DModel | None,
        scheduler: DDPMScheduler,
        sampler: str = "ddim",
        eta: float = 0.0,
        gradient_checkpointing: bool = False,
        channels_last: bool = False,
        pretrained: str | None = None,
    ) -> None:
        super().__init__()
        check_sampler(sampler, eta)
        if pretrained:
            unet, scheduler = self._load_pretrained(pretrained, unet, scheduler)
        if not isinstance(unet, UNet2DModel):
            raise ValueError(f"unet must be a diffusers UNet2DModel (or set pretrained=<folder>), got {type(unet)}")
        if not isinstance(scheduler, tuple(SAMPLERS.values())):
            raise ValueError(f"scheduler must be a diffusers DDPMScheduler or DDIMScheduler, got {type(scheduler)}")
        if scheduler.config.prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"scheduler.prediction_type must be one of {PREDICTION_TYPES}, "
                             f"got {scheduler.config.prediction_type!r}")
        plain_config(unet)
        plain_config(scheduler)
        self.unet = unet
        self.scheduler = scheduler
        self.sampler = sampler
        self.eta = eta
        self.channels_last = channels_last
        if gradient_checkpointing:
            unet.enable_gradient_checkpointing()
        if channels_last:
            unet.to(memory_format=torch.channels_last)

    @staticmethod
    def _load_pretrained(pretrained: str, unet: UNet2DModel | None,
                         scheduler: DDPMScheduler) -> tuple[UNet2DModel, DDPMScheduler]:
        folder = find_unet_folder(pretrained)
        if unet is not None:
            log.info("pretrained=%s: the UNet architecture comes from %s, not from model.backend.unet", pretrained, folder)
        loaded = UNet2DModel.from_pretrained(str(folder), local_files_only=True)
        saved_scheduler = load_pretrained_scheduler(pretrained)
        if saved_scheduler is not None:
            log.info("pretrained=%s: the noise schedule comes from its scheduler/ folder", pretrained)
            scheduler = saved_scheduler
        return loaded, scheduler

    @property
    def prediction_type(self) -> str:
        return self.scheduler.config.prediction_type

    def _memory_format(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def loss(self, x: torch.Tensor) -> torch.Tensor:
        noise = torch.randn_like(x)
        steps = self.scheduler.config.num_train_timesteps
        timesteps = torch.randint(0, steps, (x.shape[0],), device=x.device, dtype=torch.long)
        noisy = self.scheduler.add_noise(x, noise, timesteps)
        if self.prediction_type == "epsilon":
            target = noise
        elif self.prediction_type == "v_prediction":
            target = self.scheduler.get_velocity(x, noise, timesteps)
        else:
            target = x
        prediction = self.unet(self._memory_format(noisy), timesteps).sample
        return F.mse_loss(prediction.float(), target.float())

    def make_sampler(self, sampler: str | None = None) -> SchedulerMixin:
        """A fresh sampling scheduler sharing the training noise schedule."""
        name = sampler or self.sampler
        check_sampler(name, 0.0)
        return SAMPLERS[name].from_config(self.scheduler.config)

    @torch.no_grad()
    def sample(
        self,
        noise: torch.Tensor,
        steps: int,
        progress: bool = False,
        sampler: str | None = None,
        eta: float | None = None,
        generator: Generators | None = None,
    ) -> torch.Tensor:
        """Denoise `noise` in `steps` steps with `sampler` (default: the configured one).

        `eta` (DDIM only) defaults to the configured eta. Step noise comes from `generator`
        (one, or one per item) or else from generators seeded by each item's noise, so the
        same noise always gives the same output."""
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        self.check_shape(tuple(noise.shape[1:]))
        name = sampler or self.sampler
        eta_value = eta if eta is not None else (self.eta if name == "ddim" else 0.0)
        check_sampler(name, eta_value)
        if isinstance(generator, list) and len(generator) != noise.shape[0]:
            raise ValueError(f"got {len(generator)} generators for a batch of {noise.shape[0]}")
        generators = generator if generator is not None else noise_seeded_generators(noise)
        scheduler = self.make_sampler(name)
        scheduler.set_timesteps(steps, device=noise.device)
        step_options = {"eta": eta_value} if name == "ddim" else {}
        x = noise * scheduler.init_noise_sigma
        for t in tqdm(scheduler.timesteps, desc="sampling", disable=not progress):
            model_input = self._memory_format(scheduler.scale_model_input(x, t))
            output = self.unet(model_input, t).sample
            x = scheduler.step(output, t, x, generator=generators, **step_options).prev_sample
        return x

    # The generation modes' view of the schedule: model time t is a training timestep
    # (0 .. num_train_timesteps - 1) and CLEAN (-1) is the clean end, where DDIM's last step
    # lands (alpha 1, as DDIMScheduler with set_alpha_to_one).
    CLEAN = -1.0

    def noise_levels(self, steps: int) -> torch.Tensor:
        """DDIMScheduler's timesteps for `steps` steps, then CLEAN: the same path as sampler=ddim."""
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        scheduler = self.make_sampler("ddim")
        scheduler.set_timesteps(steps)
        return torch.cat([scheduler.timesteps.float(), torch.tensor([self.CLEAN])])

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(t, dtype=torch.float32)
        alphas_cumprod = self.scheduler.alphas_cumprod.to(t.device)
        index = t.round().long().clamp(0, len(alphas_cumprod) - 1)
        alpha_bar = torch.where(t < 0, torch.ones_like(t), alphas_cumprod[index])
        return alpha_bar.sqrt(), (1.0 - alpha_bar).sqrt()

    def predict(self, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_0, eps) as DDIMScheduler.step derives them (x_0 clipped when clip_sample is on).

        At CLEAN the network is asked at timestep 0, the nearest level it was trained on."""
        timestep = torch.as_tensor(t, device=x_t.device).round().long().clamp_min(0)
        output = self.unet(self._memory_format(x_t), timestep.expand(x_t.shape[0])).sample.to(x_t.dtype)
        alpha, sigma = (scale.to(x_t.dtype) for scale in self.alpha_sigma(timestep))
        if self.prediction_type == "epsilon":
            eps = output
            x0 = (x_t - sigma * eps) / alpha
        elif self.prediction_type == "v_prediction":
            x0, eps = alpha * x_t - sigma * output, sigma * x_t + alpha * output
        else:
            x0 = output
            eps = (x_t - alpha * x0) / sigma
        if self.scheduler.config.clip_sample:
            limit = self.scheduler.config.clip_sample_range
            x0 = x0.clamp(-limit, limit)
        return x0, eps

    def check_shape(self, shape: tuple[int, ...]) -> None:
        config = self.unet.config
        if len(shape) != 3:
            raise ValueError(f"the UNet2D backend needs (channels, height, width) tensors, got shape {shape}")
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
