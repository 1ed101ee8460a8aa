"""Stage two of latent diffusion: AudioDiffusionModule over a frozen VAE's latents.

It adds three things to AudioDiffusionModule: the user-facing `vae` setting (`model.vae=<path>`,
which the representation reads through an interpolation), measuring the latent scaling factor on
the training data at fit start, and recording the VAE's architecture in every checkpoint so
`generate.py` rebuilds the model from the `.ckpt` alone."""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Any

import torch
from pytorch_lightning.callbacks import WeightAveraging

from src.checkpoints.files import CONFIG_KEY
from src.data.file_dataset import split_batch
from src.models.diffusion_module import AudioDiffusionModule
from src.networks.base import Network
from src.processes.base import Process
from src.representations.latent import LatentRepresentation

log = logging.getLogger(__name__)


class LatentDiffusionModule(AudioDiffusionModule):
    """Args as AudioDiffusionModule, plus:
        vae: the VAE checkpoint or AutoencoderKL folder; must equal `representation.vae`
            (the configs interpolate one from the other).
        scale_batches: training batches the scaling factor is measured on when unset."""

    def __init__(
        self,
        vae: str,
        representation: LatentRepresentation,
        network: Network,
        process: Process,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        sampler: str | None = None,
        eta: float | None = None,
        sample_steps: int = 50,
        val_seed: int = 1234,
        scale_batches: int = 8,
        labels: Sequence[str] | None = None,
        cfg_dropout: float = 0.5,
        cfg_scale: float = 1.0,
        finetune: dict | None = None,
        eps_scaling: float = 0.0,
        null_copies: int = 0,
    ) -> None:
        if not isinstance(representation, LatentRepresentation):
            raise ValueError("model.representation must be a LatentRepresentation, "
                             f"got {type(representation).__name__}")
        if str(vae) != representation.vae_source:
            raise ValueError(f"model.vae={vae} but model.representation.vae={representation.vae_source}; "
                             "set model.vae only (the representation interpolates it)")
        if scale_batches < 1:
            raise ValueError(f"model.scale_batches must be at least 1, got {scale_batches}")
        super().__init__(representation, network, process, optimizer, scheduler, sampler, eta, sample_steps, val_seed,
                         labels, cfg_dropout, cfg_scale, finetune, eps_scaling, null_copies)
        self.scale_batches = scale_batches

    def on_fit_start(self) -> None:
        # The frozen VAE is in eval mode on purpose; Lightning would warn about it.
        warnings.filterwarnings("ignore", message=r".*module\(s\) in eval mode at the start of training")
        if self.representation.is_scale_set():
            return  # given in the config, or restored from the checkpoint of a resumed run
        datamodule = self.trainer.datamodule
        if datamodule is None:
            raise ValueError("measuring the latent scaling factor needs a datamodule; "
                             "or set model.representation.scaling_factor")
        # Own RNG fork: measuring must not shift the training noise stream.
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            batches = (split_batch(batch)[0] for batch in islice(datamodule.train_dataloader(), self.scale_batches))
            value = self.representation.measure_scaling_factor(batches)
        value = float(self.trainer.strategy.broadcast(value, src=0))  # every rank uses rank 0's value
        self.representation.set_scaling_factor(value)
        self._sync_weight_averages()
        log.info("latent scaling factor measured on %d training batches: %.6g", self.scale_batches, value)

    def _sync_weight_averages(self) -> None:
        """Weight averaging (EMA) copied the model, with an unset scale, before fit start; it would
        only pick the measured value up at its first update, after the sanity-check validation."""
        for callback in self.trainer.callbacks:
            if isinstance(callback, WeightAveraging) and callback._average_model is not None:
                callback._average_model.module.representation.scaling_factor.copy_(self.representation.scaling_factor)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        if CONFIG_KEY in checkpoint:
            config = copy.deepcopy(checkpoint[CONFIG_KEY])
            config["model"]["representation"]["vae_config"] = self.representation.vae_config()
            checkpoint[CONFIG_KEY] = config
