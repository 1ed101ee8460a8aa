"""DDPM (Ho et al. 2020) on a diffusers DDPMScheduler: teticio/audio-diffusion's process.

The schedule's betas give alpha_bar per integer timestep; x_t = sqrt(alpha_bar) x_0 +
sqrt(1 - alpha_bar) eps. The network predicts epsilon, v or the clean sample (diffusers'
`prediction_type`) from x_t and c_noise = timestep / 1000, which the UNet2D network scales back
to the integer timesteps diffusers feeds it. Model time is the timestep; CLEAN (-1) is the
clean end where DDIM's last step lands. The same DDPMScheduler is what an exported diffusers
pipeline runs, and it drives the `ddpm` sampler."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import DDIMScheduler, DDPMScheduler

from src.networks.base import NetworkFn
from src.processes.base import PATH_SAMPLERS, Process, batch_times, per_item

PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")
TIMESTEP_UNIT = 1000.0  # c_noise = timestep / TIMESTEP_UNIT
CLEAN = -1.0


def load_pipeline_scheduler(pretrained: str) -> dict | None:
    """The scheduler config saved with a local diffusers pipeline (its `scheduler/` folder), if any."""
    folder = Path(pretrained).expanduser() / "scheduler"
    if not (folder / "scheduler_config.json").is_file():
        return None
    return dict(DDPMScheduler.load_config(str(folder)))


class DDPMProcess(Process):
    """Args (diffusers DDPMScheduler settings):
        num_train_timesteps: diffusion steps of the forward process.
        beta_schedule: linear | scaled_linear | squaredcos_cap_v2.
        beta_start, beta_end: first and last step's noise variance.
        prediction_type: epsilon | v_prediction | sample.
        clip_sample: clip predicted clean samples to +-clip_sample_range when sampling.
        pretrained: a local diffusers pipeline folder whose `scheduler/` replaces these settings.
    """

    name = "ddpm"
    default_sampler = "ddim"
    samplers = (*PATH_SAMPLERS, "ddpm")

    def __init__(self, num_train_timesteps: int = 1000, beta_schedule: str = "linear", beta_start: float = 1e-4,
                 beta_end: float = 0.02, prediction_type: str = "epsilon", clip_sample: bool = True,
                 clip_sample_range: float = 1.0, pretrained: str | None = None) -> None:
        super().__init__()
        settings = dict(num_train_timesteps=num_train_timesteps, beta_schedule=beta_schedule, beta_start=beta_start,
                        beta_end=beta_end, prediction_type=prediction_type, clip_sample=clip_sample,
                        clip_sample_range=clip_sample_range)
        saved = load_pipeline_scheduler(pretrained) if pretrained else None
        if saved:
            settings.update({key: saved[key] for key in settings if key in saved})
        if settings["prediction_type"] not in PREDICTION_TYPES:
            raise ValueError(f"process.prediction_type must be one of {PREDICTION_TYPES}, "
                             f"got {settings['prediction_type']!r}")
        self.scheduler = DDPMScheduler(**settings)
        self.register_buffer("alphas_cumprod", self.scheduler.alphas_cumprod.clone(), persistent=False)

    @property
    def prediction_type(self) -> str:
        return self.scheduler.config.prediction_type

    def alpha_sigma(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(t, dtype=torch.float32)
        table = self.alphas_cumprod.to(t.device)
        alpha_bar = torch.where(t < 0, torch.ones_like(t), table[t.round().long().clamp(0, len(table) - 1)])
        return alpha_bar.sqrt(), (1.0 - alpha_bar).sqrt()

    def schedule(self, steps: int) -> torch.Tensor:
        """DDIMScheduler's timesteps for `steps` steps, then CLEAN: diffusers' DDIM path exactly."""
        self.check_steps(steps)
        ddim = DDIMScheduler.from_config(self.scheduler.config)
        ddim.set_timesteps(steps)
        return torch.cat([ddim.timesteps.float(), torch.tensor([CLEAN])])

    def denoise(self, network: NetworkFn, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x_0, eps) as DDIMScheduler.step derives them (x_0 clipped when clip_sample is on).

        At CLEAN the network is asked at timestep 0, the nearest level it was trained on."""
        timestep = batch_times(t, x_t).round().clamp_min(0)
        output = network(x_t, timestep.float() / TIMESTEP_UNIT)
        alpha, sigma = (per_item(s, x_t) for s in self.alpha_sigma(timestep))
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

    def loss(self, network: NetworkFn, x0: torch.Tensor) -> torch.Tensor:
        noise = torch.randn_like(x0)
        timesteps = torch.randint(0, self.scheduler.config.num_train_timesteps, (x0.shape[0],), device=x0.device)
        alpha, sigma = (per_item(s, x0) for s in self.alpha_sigma(timesteps))
        x_t = alpha * x0 + sigma * noise
        if self.prediction_type == "epsilon":
            target = noise
        elif self.prediction_type == "v_prediction":
            target = alpha * noise - sigma * x0
        else:
            target = x0
        return F.mse_loss(network(x_t, timesteps.float() / TIMESTEP_UNIT).float(), target.float())

    def describe(self) -> str:
        config = self.scheduler.config
        return f"{self.name} ({config.num_train_timesteps} steps, {config.beta_schedule}, {self.prediction_type})"
