"""The pre-encoded latent cache: same latents as on the fly, reused, keyed by the VAE, cacheable crops only."""

from __future__ import annotations

import hydra
import pytest
import torch

import src.data.latent_cache as latent_cache
from src.data.audio_folder import AudioFolderSpec
from src.data.latent_cache import CachedLatents, LatentCacheDataModule
from src.representations.latent import LatentRepresentation
from src.representations.mel import MelRepresentation
from tests.conftest import compose_config, write_tone
from tests.latent_helpers import LENGTH, MEL, save_vae_checkpoint, tiny_vae_module


@pytest.fixture(scope="module")
def representation(tmp_path_factory) -> LatentRepresentation:
    ckpt = save_vae_checkpoint(tiny_vae_module(), tmp_path_factory.mktemp("vae") / "vae.ckpt")
    return LatentRepresentation(MelRepresentation(**MEL), str(ckpt), scaling_factor=1.5)


@pytest.fixture
def folder(tmp_path):
    for i in range(6):
        write_tone(tmp_path / "audio" / f"tone_{i}.wav", rate=8000, seconds=0.2, freq=200.0 * (i + 1))
    return tmp_path / "audio"


def datamodule(folder, cache_dir, representation, crop: str = "start") -> LatentCacheDataModule:
    spec = AudioFolderSpec(path=str(folder), sample_rate=8000, channels=1, length=LENGTH, crop=crop)
    dm = LatentCacheDataModule(spec, demo_dir=str(folder), cache_dir=str(cache_dir), val_fraction=0.3,
                               batch_size=2, encode_batch_size=4)
    dm.use_representation(representation)
    return dm


def test_cached_items_are_the_latents_of_the_clips(folder, tmp_path, representation):
    dm = datamodule(folder, tmp_path / "cache", representation)
    dm.setup("fit")
    assert isinstance(dm.train_set, CachedLatents) and isinstance(dm.val_set, CachedLatents)
    assert len(dm.train_set) + len(dm.val_set) == 6
    clips = torch.stack([dm.train_clips[i] for i in range(len(dm.train_set))])
    assert torch.allclose(dm.train_set.latents, representation.latents(clips), atol=1e-6)
    batch = next(iter(dm.train_dataloader()))  # the epoch-shuffled loader hands out cached items
    assert batch.shape == (2, 1, 4, 4)
    assert torch.equal(representation.encode(batch), 1.5 * batch)  # encode only scales cached latents


def test_a_cache_is_reused_and_keyed_by_the_vae_weights(folder, tmp_path, representation, monkeypatch):
    datamodule(folder, tmp_path / "cache", representation).setup("fit")
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(files) == 2 and files[0].startswith("train-") and files[1].startswith("val-")

    def no_encoding(*args):
        raise AssertionError("the cache should have been read, not rebuilt")

    monkeypatch.setattr(latent_cache, "encode_clips", no_encoding)
    again = datamodule(folder, tmp_path / "cache", representation)
    again.setup("fit")
    monkeypatch.undo()
    changed = LatentRepresentation(MelRepresentation(**MEL), representation.vae_source, scaling_factor=1.5)
    with torch.no_grad():
        changed.vae.decoder.conv_out.bias.add_(1.0)  # decoder-only change: the same latents, a new key
    datamodule(folder, tmp_path / "cache", changed).setup("fit")
    assert len(list((tmp_path / "cache").iterdir())) == 4


def test_random_crops_and_non_latent_models_are_refused(folder, tmp_path, representation):
    with pytest.raises(ValueError, match="crop=random"):
        datamodule(folder, tmp_path / "cache", representation, crop="random")
    dm = datamodule(folder, tmp_path / "cache", representation)
    dm.use_representation(None)
    with pytest.raises(ValueError, match="needs a latent model"):
        dm.setup("fit")


def test_the_latent_cache_config_builds_and_refuses_augmentation(tmp_path):
    # datamodule=latent_cache inherits the audio folder's keys, augment included
    cfg = compose_config(["exp=latent_diffusion_demo", "datamodule=latent_cache", "model.vae=unused",
                          f"datamodule.demo_dir={tmp_path}", f"datamodule.cache_dir={tmp_path / 'cache'}"])
    assert isinstance(hydra.utils.instantiate(cfg.datamodule), LatentCacheDataModule)
    cfg.datamodule.augment = {"_target_": "src.data.augment.ClipAugment", "polarity": True, "gain_db": 0.0}
    with pytest.raises(Exception, match="datamodule.augment"):
        hydra.utils.instantiate(cfg.datamodule)


def test_labels_travel_through_the_cache(tmp_path, representation):
    """Cached latents keep the label of the clip they were encoded from, and a cache built without
    labels is not reused with them."""
    for kind, freq in (("low", 150.0), ("high", 900.0)):
        for i in range(3):
            write_tone(tmp_path / "audio" / kind / f"{kind}_{i}.wav", rate=8000, seconds=0.2, freq=freq + 10 * i)
    unlabelled = datamodule(tmp_path / "audio", tmp_path / "cache", representation)
    unlabelled.setup("fit")
    dm = datamodule(tmp_path / "audio", tmp_path / "cache", representation)
    dm.spec.labels = "folder"
    dm.setup("fit")
    assert len(list((tmp_path / "cache").iterdir())) == 4  # labels are part of the key
    for index, path in enumerate(dm.train_clips.files):
        latent, label = dm.train_set[index]
        assert dm.vocabulary.names[label] == path.parent.name
        assert torch.allclose(latent, representation.latents(dm.train_clips[index][0][None])[0], atol=1e-6)
    latents, labels = next(iter(dm.train_dataloader()))
    assert latents.shape == (2, 1, 4, 4) and labels.dtype == torch.long
