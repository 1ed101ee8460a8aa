"""Stage one of latent diffusion: a KL autoencoder (diffusers' `AutoencoderKL`) on mel images.

Batches are audio clips (encoded by the injected MelRepresentation) or already-encoded mel
images (4-D, passed through it unchanged). The loss is a reconstruction term plus a weighted
KL term, as in the LDM autoencoder teticio trained, minus its LPIPS and GAN terms (those need
downloaded weights and a second optimiser). Validation writes input and reconstructed mel images
with their Griffin-Lim audio and measures the reconstruction as audio.

A checkpoint holds the run config (like AudioDiffusionModule's), so the VAE can be rebuilt from
the `.ckpt` alone: `load_vae_checkpoint` does that for the latent representation and the export."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL

from src.audio.io import write_wav
from src.callbacks.media import log_media
from src.metrics.reconstruction import mel_l1_db, spectral_convergence
from src.models.base import ConfiguredModule
from src.utils.diffusers_config import plain_config
from src.representations.latent import check_vae_fits
from src.representations.mel import MelRepresentation, save_mel_png

log = logging.getLogger(__name__)

RECONSTRUCTION_LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "l1": F.l1_loss, "mse": F.mse_loss,
}


class VAEModule(ConfiguredModule):
    """Trains `vae` to reconstruct `representation.encode(batch)`.

    Args:
        vae: the autoencoder (1 input and 1 output channel: grey mel images).
        representation: audio -> mel images in [-1, 1] (and Griffin-Lim back, for validation audio).
        optimizer: partial optimizer (from `_partial_: true` config) taking the parameters.
        scheduler: optional partial LR scheduler taking the optimizer; stepped every optimizer step.
        reconstruction_loss: "l1" or "mse", per pixel.
        kl_weight: weight of the KL term. The KL is summed over latent elements and divided by the
            image's pixel count, so the ratio of the two terms is LDM's (both summed per image) and
            teticio's 1e-6 keeps its meaning.
        sample_posterior: train on a posterior sample (LDM) rather than its mean; validation
            always uses the mean, so its metrics are deterministic.
        media_dir: where validation writes input/reconstruction PNG + WAV files (null: no files).
        num_media: clips written and logged per validation.

    Validation logs val/loss, val/reconstruction and val/kl (posterior mean: deterministic), and two
    measures of the reconstruction as heard through Griffin-Lim, against the input audio (or the
    Griffin-Lim audio of the input image when batches are images), both level-matched:
    val/mel_l1 (mean absolute log-mel difference in dB, see mel_l1_db) and val/spectral_convergence.
    """

    def __init__(
        self,
        vae: AutoencoderKL,
        representation: MelRepresentation,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        reconstruction_loss: str = "l1",
        kl_weight: float = 1.0e-6,
        sample_posterior: bool = True,
        media_dir: str | None = None,
        num_media: int = 4,
    ) -> None:
        super().__init__(optimizer, scheduler)
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"reconstruction_loss must be one of {sorted(RECONSTRUCTION_LOSSES)}, "
                             f"got {reconstruction_loss!r}")
        if kl_weight < 0 or num_media < 0:
            raise ValueError(f"kl_weight and num_media must be >= 0, got {kl_weight} and {num_media}")
        check_vae_fits(vae, representation)
        plain_config(vae)  # Hydra's ListConfigs would break save_pretrained
        self.vae = vae
        self.representation = representation
        self.reconstruction_loss = reconstruction_loss
        self.kl_weight = kl_weight
        self.sample_posterior = sample_posterior
        self.media_dir = Path(media_dir) if media_dir else None
        self.num_media = num_media

    def losses(self, images: torch.Tensor, sample: bool) -> dict[str, torch.Tensor]:
        """Reconstruction, KL and total loss of a batch of mel images, plus the reconstruction."""
        posterior = self.vae.encode(images).latent_dist
        latents = posterior.sample() if sample else posterior.mode()
        recon = self.vae.decode(latents).sample
        rec = RECONSTRUCTION_LOSSES[self.reconstruction_loss](recon.float(), images.float())
        kl = posterior.kl().float().mean() / images[0].numel()
        return {"loss": rec + self.kl_weight * kl, "reconstruction": rec, "kl": kl, "recon": recon}

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        out = self.losses(self.representation.encode(batch), sample=self.sample_posterior)
        size = batch.shape[0]
        self.log("train/loss", out["loss"], prog_bar=True, batch_size=size)
        self.log("train/reconstruction", out["reconstruction"], batch_size=size)
        self.log("train/kl", out["kl"], batch_size=size)
        return out["loss"]

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        images = self.representation.encode(batch)
        out = self.losses(images, sample=False)
        recon = out["recon"].clamp(-1.0, 1.0)
        recon_audio = self.representation.decode(recon)[:, 0]
        # Audio-side metrics: the reconstruction as heard (through Griffin-Lim) against the input.
        reference = batch.mean(dim=1) if batch.dim() == 3 else self.representation.decode(images)[:, 0]
        mel = self.representation
        mel_l1 = mel_l1_db(reference, recon_audio, mel.sample_rate, mel.n_fft, mel.hop_length, mel.y_res,
                           mel.top_db).mean()
        sc = spectral_convergence(reference, recon_audio, mel.n_fft, mel.hop_length).mean()
        metrics = {"val/loss": out["loss"], "val/reconstruction": out["reconstruction"], "val/kl": out["kl"],
                   "val/mel_l1": mel_l1, "val/spectral_convergence": sc}
        for name, value in metrics.items():
            self.log(name, value, prog_bar=name == "val/loss", sync_dist=True, batch_size=batch.shape[0])
        if batch_idx == 0 and not self.trainer.sanity_checking and self.trainer.is_global_zero:
            self.write_media(images[: self.num_media], recon[: self.num_media], recon_audio[: self.num_media])

    def write_media(self, images: torch.Tensor, recon: torch.Tensor, recon_audio: torch.Tensor) -> None:
        """Input and reconstructed mel images with their Griffin-Lim audio: to the loggers and files."""
        if images.shape[0] == 0:
            return
        rate, step = self.representation.sample_rate, self.global_step
        input_audio = self.representation.decode(images)
        recon_audio = recon_audio[:, None]
        for key, mels, audios in (("val_input", images, input_audio), ("val_reconstruction", recon, recon_audio)):
            log_media(self.loggers, key, list(audios), [self.logged_image(m) for m in mels], rate, step)
        if self.media_dir is None:
            return
        folder = self.media_dir / f"step_{step:07d}"
        for i in range(images.shape[0]):
            pairs = (("input", images[i], input_audio[i]), ("reconstruction", recon[i], recon_audio[i]))
            for name, mel, audio in pairs:
                save_mel_png(folder / f"{name}_{i:02d}.png", self.representation.image(mel))
                write_wav(folder / f"{name}_{i:02d}.wav", audio.float(), rate)
        log.info("wrote %d input/reconstruction pairs to %s", images.shape[0], folder)

    def logged_image(self, x: torch.Tensor) -> np.ndarray:
        """A model tensor as the loggers' HWC uint8 picture, low frequencies at the bottom."""
        grey = self.representation.image(x).flip(0).numpy()
        return np.repeat(grey[..., None], 3, axis=2)
