"""LatentRepresentation over a tiny VAE: frozen, shapes, encode/decode, scale measurement and storage."""

from __future__ import annotations

import hydra
import pytest
import pytorch_lightning as pl
import torch
from diffusers import UNet2DModel
from omegaconf import OmegaConf
from pytorch_lightning.callbacks import EMAWeightAveraging
from torch.utils.data import DataLoader

from src.generation.checkpoint import load_model
from src.representations.latent import LatentRepresentation
from src.representations.mel import MelRepresentation
from tests.latent_helpers import LENGTH, MEL, VAE, drum_audio, latent_model_config, save_vae_checkpoint, tiny_vae_module


@pytest.fixture(scope="module")
def vae_ckpt(tmp_path_factory):
    return save_vae_checkpoint(tiny_vae_module(), tmp_path_factory.mktemp("vae") / "vae.ckpt")


def latent(source, scaling_factor: float | None = 2.0, latent_std: float = 1.0, **mel) -> LatentRepresentation:
    return LatentRepresentation(MelRepresentation(**{**MEL, **mel}), str(source), scaling_factor=scaling_factor,
                                latent_std=latent_std)


def test_the_vae_is_frozen_and_stays_in_eval_mode(vae_ckpt):
    rep = latent(vae_ckpt)
    assert not any(p.requires_grad for p in rep.vae.parameters())
    rep.train()
    assert rep.training and not rep.vae.training
    assert "vae.encoder.conv_in.weight" in rep.state_dict() and "scaling_factor" in rep.state_dict()


def test_tensor_shapes_follow_the_vae_downsampling(vae_ckpt):
    rep = latent(vae_ckpt)
    assert rep.downsampling == 4 and rep.latent_channels == 1
    assert rep.tensor_shape() == (1, 4, 4)
    assert rep.tensor_shape(32 * 64 - 1) == (1, 4, 8)  # twice the frames, twice the latent width
    with pytest.raises(ValueError, match="not a multiple of the VAE's downsampling 4"):
        rep.tensor_shape(18 * 64 - 1)


def test_encode_is_the_scaled_posterior_mean_of_audio_images_or_cache(vae_ckpt):
    rep = latent(vae_ckpt, scaling_factor=2.0)
    audio = drum_audio(3)
    images = rep.mel.encode(audio)
    with torch.no_grad():
        mean = rep.vae.encode(images).latent_dist.mean
    z = rep.encode(audio)
    assert z.shape == (3, 1, 4, 4) and not z.requires_grad
    assert torch.allclose(z, 2.0 * mean)
    assert torch.equal(rep.encode(images), z)  # mel images pass through the mel representation
    assert torch.equal(rep.encode(mean), z)  # cached (unscaled) latents are only scaled
    assert torch.equal(rep.encode(audio), z)  # deterministic: the mean, not a sample


def test_decode_gives_audio_of_the_training_length(vae_ckpt):
    rep = latent(vae_ckpt, scaling_factor=0.5)
    audio = rep.decode(torch.randn(2, 1, 4, 4))
    assert audio.shape == (2, 1, LENGTH) and torch.isfinite(audio).all()
    # decode divides by the scale: the same latents at twice the scale decode the halved input.
    images = rep.vae.decode(torch.ones(1, 1, 4, 4)).sample.clamp(-1, 1)
    assert torch.allclose(rep.decode(torch.full((1, 1, 4, 4), 0.5)), rep.mel.decode(images), atol=1e-5)


def test_an_unset_scale_is_a_clear_error(vae_ckpt):
    rep = latent(vae_ckpt, scaling_factor=None)
    assert not rep.is_scale_set()
    with pytest.raises(ValueError, match="scaling factor is unset"):
        rep.encode(drum_audio(1))
    with pytest.raises(ValueError, match="positive"):
        latent(vae_ckpt, scaling_factor=-1.0)


def test_measured_scale_is_one_over_the_latent_std(vae_ckpt):
    rep = latent(vae_ckpt, scaling_factor=None)
    batches = [drum_audio(4, seed=s) for s in range(3)]
    value = rep.measure_scaling_factor(batches)
    z = torch.cat([rep.latents(b) for b in batches])
    assert value == pytest.approx(1.0 / z.std(correction=0).item(), rel=1e-5)
    rep.set_scaling_factor(value)
    assert rep.state_dict()["scaling_factor"].item() == pytest.approx(value)
    assert rep.encode(batches[0]).std().item() == pytest.approx(1.0, rel=0.5)  # about unit spread
    with pytest.raises(ValueError, match="no training batches"):
        rep.measure_scaling_factor([])


def test_latent_std_sets_the_measured_spread(vae_ckpt):
    batches = [drum_audio(4, seed=s) for s in range(3)]
    unit = latent(vae_ckpt, scaling_factor=None).measure_scaling_factor(batches)
    lower = latent(vae_ckpt, scaling_factor=None, latent_std=0.75)
    measured = lower.measure_scaling_factor(batches)
    assert measured == pytest.approx(0.75 * unit, rel=1e-9)
    lower.set_scaling_factor(measured)
    z = torch.cat([lower.encode(b) for b in batches])
    assert z.std(correction=0).item() == pytest.approx(0.75, rel=1e-4)
    with pytest.raises(ValueError, match="latent_std must be a positive number"):
        latent(vae_ckpt, latent_std=0.0)


def test_state_dict_rebuilds_without_the_vae_file(vae_ckpt):
    rep = latent(vae_ckpt, scaling_factor=3.0)
    rebuilt = LatentRepresentation(MelRepresentation(**MEL), "/nowhere/vae.ckpt", vae_config=rep.vae_config())
    rebuilt.load_state_dict(rep.state_dict())
    audio = drum_audio(2)
    assert torch.equal(rebuilt.encode(audio), rep.encode(audio))
    assert rebuilt.scaling_factor.item() == 3.0


def test_a_diffusers_folder_or_pipeline_folder_works_too(vae_ckpt, tmp_path):
    rep = latent(vae_ckpt)
    rep.vae.save_pretrained(tmp_path / "pipe" / "vqvae")
    audio = drum_audio(2)
    for source in (tmp_path / "pipe" / "vqvae", tmp_path / "pipe"):
        assert torch.equal(latent(source).encode(audio), rep.encode(audio))
    assert rep.exportable_vae().config.scaling_factor == 2.0


def test_bad_vae_sources_are_clear_errors(vae_ckpt, tmp_path):
    with pytest.raises(ValueError, match="no such file or folder"):
        latent(tmp_path / "missing.ckpt")
    other = tiny_vae_module()
    other.run_config["model"] = {"_target_": "src.models.diffusion_module.AudioDiffusionModule"}
    with pytest.raises(ValueError, match="not a VAE"):
        latent(save_vae_checkpoint(other, tmp_path / "diffusion.ckpt"))
    UNet2DModel(block_out_channels=(8, 8), norm_num_groups=4, down_block_types=("DownBlock2D",) * 2,
                up_block_types=("UpBlock2D",) * 2).save_pretrained(tmp_path / "unet")
    with pytest.raises(ValueError, match="UNet2DModel, not an AutoencoderKL"):
        latent(tmp_path / "unet")
    with pytest.raises(ValueError, match="hop_length=32 \\(VAE: 64\\)"):
        latent(vae_ckpt, hop_length=32)
    flat = tiny_vae_module(vae={**VAE, "down_block_types": ["DownEncoderBlock2D"],
                                "up_block_types": ["UpDecoderBlock2D"], "block_out_channels": [8]})
    with pytest.raises(ValueError, match="does not downsample"):
        latent(save_vae_checkpoint(flat, tmp_path / "flat.ckpt"))


class ClipData(pl.LightningDataModule):
    def train_dataloader(self) -> DataLoader:
        return DataLoader(list(drum_audio(8, seed=5)), batch_size=4)


class EMAScaleProbe(pl.Callback):
    """Reads the EMA copy's scale before its first update (which would copy it anyway)."""

    def __init__(self, ema: EMAWeightAveraging) -> None:
        self.ema, self.seen = ema, None

    def on_train_start(self, trainer, pl_module) -> None:
        self.seen = self.ema._average_model.module.representation.scaling_factor.item()


def test_fit_measures_the_scale_stores_it_and_leaves_the_vae_alone(vae_ckpt, tmp_path):
    config = latent_model_config(vae_ckpt)
    model = hydra.utils.instantiate(OmegaConf.create(config))
    model.run_config = {"model": config}
    vae_before = {k: v.clone() for k, v in model.representation.vae.state_dict().items()}
    expected = model.representation.measure_scaling_factor([drum_audio(8, seed=5)])  # scale_batches=2 x 4 clips
    ema = EMAWeightAveraging(decay=0.5)
    probe = EMAScaleProbe(ema)
    trainer = pl.Trainer(max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu", callbacks=[ema, probe])
    trainer.fit(model, datamodule=ClipData())
    assert probe.seen == pytest.approx(expected, rel=1e-6)  # EMA validation would see the measured scale
    assert model.representation.scaling_factor.item() == pytest.approx(expected, rel=1e-6)
    for name, value in model.representation.vae.state_dict().items():
        assert torch.equal(value, vae_before[name]), f"{name} changed: the VAE must stay frozen"
    trainer.save_checkpoint(tmp_path / "latent.ckpt")
    checkpoint = torch.load(tmp_path / "latent.ckpt", map_location="cpu", weights_only=True)
    for key in ("state_dict", "current_model_state"):  # the EMA copy and the raw weights agree
        assert checkpoint[key]["representation.scaling_factor"].item() == pytest.approx(expected, rel=1e-6)
    assert checkpoint["config"]["model"]["representation"]["vae_config"]["latent_channels"] == 1
    assert model.run_config["model"]["representation"]["vae_config"] is None  # the live config is untouched

    vae_ckpt.rename(vae_ckpt.with_suffix(".moved"))  # the checkpoint alone must do
    try:
        rebuilt, _ = load_model(tmp_path / "latent.ckpt")
    finally:
        vae_ckpt.with_suffix(".moved").rename(vae_ckpt)
    assert rebuilt.representation.scaling_factor.item() == pytest.approx(expected, rel=1e-6)
    audio = rebuilt.generate(2, steps=2, generator=torch.Generator().manual_seed(0))
    assert audio.shape == (2, 1, LENGTH) and torch.isfinite(audio).all()


def test_model_vae_and_representation_vae_must_agree(vae_ckpt):
    config = latent_model_config(vae_ckpt)
    config["vae"] = "/elsewhere.ckpt"
    with pytest.raises(Exception, match="set model.vae only"):
        hydra.utils.instantiate(OmegaConf.create(config))
