"""The LightningModule: a representation and a diffusion backend, injected from config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from src.backends.base import DiffusionBackend
from src.models.base import ConfiguredModule
from src.representations.base import Representation



class AudioDiffusionModule(ConfiguredModule):
    """Trains `backend` on `representation.encode(audio)` and samples audio back through `decode`.

    Args:
        representation: audio <-> model-tensor mapping.
        backend: the diffusion model over those tensors.
        optimizer: partial optimizer (from `_partial_: true` config) taking the parameters.
        scheduler: optional partial LR scheduler taking the optimizer; stepped every optimizer step.
        sample_steps: sampling steps used by validation-time generation.
        val_seed: seed for validation noise, so validation losses are comparable across the run.
    """

    def __init__(
        self,
        representation: Representation,
        backend: DiffusionBackend,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        sample_steps: int = 50,
        val_seed: int = 1234,
    ) -> None:
        super().__init__(optimizer, scheduler)
        backend.check_shape(representation.tensor_shape())
        self.representation = representation
        self.backend = backend
        self.sample_steps = sample_steps
        self.val_seed = val_seed

    def encode_batch(self, batch: torch.Tensor) -> torch.Tensor:
        """Encode a data batch, checking it has the shape the model was built for."""
        x = self.representation.encode(batch)
        expected = self.representation.tensor_shape()
        if tuple(x.shape[1:]) != tuple(expected):
            raise ValueError(
                f"a batch encodes to {tuple(x.shape[1:])} but the model expects {tuple(expected)}: the data does not "
                f"match the representation (audio.length must be {self.representation.length} samples here; "
                "mel image folders must match model.representation.x_res / y_res)"
            )
        return x

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        loss = self.backend.loss(self.encode_batch(batch))
        self.log("train/loss", loss, prog_bar=True, batch_size=batch.shape[0])
        return loss

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        # Fixed noise per batch makes val/loss comparable between validations, and
        # fork_rng keeps validation from shifting the training RNG stream (exact resume).
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.val_seed + batch_idx)
            loss = self.backend.loss(self.encode_batch(batch))
        self.log("val/loss", loss, prog_bar=True, sync_dist=True, batch_size=batch.shape[0])

    def noise(self, num_samples: int, generator: torch.Generator | None = None,
              length: int | None = None) -> torch.Tensor:
        """Unit Gaussian model tensors, drawn on the CPU: the same seed gives the same noise on any device."""
        shape = (num_samples, *self.representation.tensor_shape(length))
        return torch.randn(shape, generator=generator, device="cpu").to(self.device)

    @torch.no_grad()
    def sample_tensors(self, noise: torch.Tensor, steps: int | None = None, progress: bool = False,
                       sampler: str | None = None, eta: float | None = None) -> torch.Tensor:
        """Denoised model tensors; `sampler` / `eta` override the backend's configured sampler where it has a choice."""
        return self.backend.sample(noise, steps or self.sample_steps, progress=progress, sampler=sampler, eta=eta)

    @torch.no_grad()
    def decode_audio(self, x: torch.Tensor) -> torch.Tensor:
        return self.representation.decode(x).float().clamp(-1.0, 1.0)

    @torch.no_grad()
    def generate(self, num_samples: int, steps: int | None = None, generator: torch.Generator | None = None,
                 length: int | None = None, progress: bool = False, sampler: str | None = None,
                 eta: float | None = None) -> torch.Tensor:
        """Audio (num_samples, channels, samples) from fresh Gaussian noise."""
        return self.generate_from_noise(self.noise(num_samples, generator, length), steps, progress, sampler, eta)

    @torch.no_grad()
    def generate_from_noise(self, noise: torch.Tensor, steps: int | None = None, progress: bool = False,
                            sampler: str | None = None, eta: float | None = None) -> torch.Tensor:
        return self.decode_audio(self.sample_tensors(noise, steps, progress, sampler, eta))
