"""Pre-encoded latents: run the dataset through the frozen VAE once, then train from the cache.

Training on latents otherwise decodes every file, computes its mel image and runs the VAE encoder
at every step. The cache holds the unscaled posterior means (what LatentRepresentation.latents
gives), so training from it is exactly training on the fly; LatentRepresentation.encode recognises
cached items by their shape and only applies the scaling factor.

A cache file is keyed by the VAE's weights, the mel settings, the clip settings and the files'
names, sizes and modification times: changing any of them writes a new one."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from src.data.audio_folder import AudioClipDataset, AudioFolderSpec
from src.data.augment import ClipAugment
from src.data.datamodule import AudioDataModule
from src.representations.latent import LatentRepresentation

log = logging.getLogger(__name__)
MEL_KEYS = ("sample_rate", "x_res", "y_res", "n_fft", "hop_length", "top_db", "quantize")


class CachedLatents(Dataset):
    """Items of a (N, channels, height, width) tensor, keyed by index or (index, crop seed); with
    `labels`, items are (latent, class id) as the audio dataset's are."""

    def __init__(self, latents: torch.Tensor, labels: list[int] | None = None) -> None:
        self.latents = latents
        self.labels = labels

    def __len__(self) -> int:
        return self.latents.shape[0]

    def __getitem__(self, key: int | tuple[int, int]) -> torch.Tensor | tuple[torch.Tensor, int]:
        index = key[0] if isinstance(key, tuple) else key
        return self.latents[index] if self.labels is None else (self.latents[index], self.labels[index])


def cache_key(representation: LatentRepresentation, clips: AudioClipDataset) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(representation.vae.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    stats = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in clips.files]
    settings = {
        "mel": {key: getattr(representation.mel, key) for key in MEL_KEYS},
        "clips": dataclasses.asdict(clips.spec),
        "files": stats,
        "labels": clips.labels,
    }
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


@torch.no_grad()
def encode_clips(representation: LatentRepresentation, clips: AudioClipDataset, batch_size: int,
                 device: torch.device) -> tuple[torch.Tensor, list[int] | None]:
    """(N, latent_channels, h, w) unscaled latents of every clip, in dataset order, on the CPU, and
    the class id of each clip served (None without labels)."""
    latents, labels = [], []
    for batch in DataLoader(clips, batch_size=batch_size, shuffle=False):
        audio, label = batch if isinstance(batch, (list, tuple)) else (batch, None)
        latents.append(representation.latents(audio.to(device)).float().cpu())
        labels += label.tolist() if label is not None else []
    return torch.cat(latents), (labels if clips.labels is not None else None)


def write_cache(path: Path, latents: torch.Tensor, labels: list[int] | None, clips: AudioClipDataset) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    torch.save({"latents": latents, "labels": labels, "files": [str(p) for p in clips.files]}, partial)
    os.replace(partial, path)  # atomic: an interrupted write never looks like a cache


def read_cache(path: Path) -> CachedLatents:
    cache = torch.load(path, map_location="cpu", weights_only=True)
    return CachedLatents(cache["latents"], cache.get("labels"))


class LatentCacheDataModule(AudioDataModule):
    """AudioDataModule whose train and validation items are cached VAE latents.

    Args as AudioDataModule, plus:
        cache_dir: where cache files are written (one per split and key).
        encode_batch_size: clips per VAE forward pass while building the cache.

    The VAE is the one of the model being fitted (`trainer.lightning_module.representation`);
    outside a trainer, call `use_representation` before `setup`."""

    def __init__(self, dataset: AudioFolderSpec, demo_dir: str, cache_dir: str, val_fraction: float = 0.1,
                 batch_size: int = 8, num_workers: int = 0, pin_memory: bool = False, seed: int = 0,
                 encode_batch_size: int = 16, index_dir: str | None = None,
                 augment: ClipAugment | None = None, demo_hits_per_kind: int = 16) -> None:
        if dataset.crop == "random":
            raise ValueError("datamodule.dataset.crop=random draws a new window every epoch, which a latent "
                             "cache cannot hold: use crop=start or crop=center with datamodule=latent_cache")
        if augment is not None and augment.active:
            raise ValueError("datamodule.augment changes clips every epoch, which a latent cache cannot hold: "
                             "set datamodule.augment=null with datamodule=latent_cache")
        if encode_batch_size < 1:
            raise ValueError(f"datamodule.encode_batch_size must be at least 1, got {encode_batch_size}")
        super().__init__(dataset, demo_dir, val_fraction, batch_size, num_workers, pin_memory, seed, index_dir,
                         demo_hits_per_kind=demo_hits_per_kind)
        self.cache_dir = Path(cache_dir)
        self.encode_batch_size = encode_batch_size
        self.representation: LatentRepresentation | None = None
        self.device = torch.device("cpu")
        self.train_clips: AudioClipDataset | None = None
        self.val_clips: AudioClipDataset | None = None

    def use_representation(self, representation: LatentRepresentation | None,
                           device: str | torch.device = "cpu") -> None:
        """The model whose VAE encodes the cache, and where it runs (set from the trainer in `setup`)."""
        self.representation, self.device = representation, torch.device(device)

    def _resolve_representation(self) -> LatentRepresentation:
        if self.representation is None and self.trainer is not None:
            # Encode where the model will train; Lightning moves the rest of the model there next.
            device = self.trainer.strategy.root_device
            representation = getattr(self.trainer.lightning_module, "representation", None)
            self.use_representation(representation.to(device) if representation is not None else None, device)
        if not isinstance(self.representation, LatentRepresentation):
            raise ValueError("datamodule=latent_cache needs a latent model (model.representation must be a "
                             f"LatentRepresentation, got {type(self.representation).__name__})")
        return self.representation

    def setup(self, stage: str | None = None) -> None:
        if isinstance(self.train_set, CachedLatents):
            return
        super().setup(stage)
        representation = self._resolve_representation()
        self.train_clips, self.val_clips = self.train_set, self.val_set  # the audio behind the cache
        self.train_set = self._cached("train", self.train_clips, representation)
        if self.val_clips is not None:
            self.val_set = self._cached("val", self.val_clips, representation)

    def _cached(self, split: str, clips: AudioClipDataset, representation: LatentRepresentation) -> CachedLatents:
        path = self.cache_dir / f"{split}-{cache_key(representation, clips)}.pt"
        if (self.trainer is None or self.trainer.is_global_zero) and not path.is_file():
            log.info("encoding %d %s clips into the latent cache %s", len(clips), split, path)
            latents, labels = encode_clips(representation, clips, self.encode_batch_size, self.device)
            write_cache(path, latents, labels, clips)
        if self.trainer is not None:
            self.trainer.strategy.barrier("latent_cache")  # other ranks wait for rank 0's file
        return read_cache(path)
