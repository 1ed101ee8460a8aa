"""VAEModule on a tiny AutoencoderKL: losses, KL weight, validation metrics and media, export."""

from __future__ import annotations

import math

import pytest
import pytorch_lightning as pl
import torch
from diffusers import AutoencoderKL
from hydra.errors import InstantiationException
from PIL import Image
from torch.utils.data import DataLoader

from src.checkpoints.files import CheckpointError
from src.generation.vae_export import export_vae, main as export_main
from src.checkpoints.vae import load_vae_checkpoint
from src.metrics.reconstruction import mel_l1_db, spectral_convergence
from tests.latent_helpers import LENGTH, MEL, drum_audio, save_vae_checkpoint, tiny_vae_module


def train_steps(module, batch: torch.Tensor, steps: int) -> list[dict[str, float]]:
    optimizer = module.configure_optimizers()
    images = module.representation.encode(batch)
    history = []
    for _ in range(steps):
        out = module.losses(images, sample=module.sample_posterior)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        history.append({k: float(v.detach()) for k, v in out.items() if k != "recon"})
    return history


def test_loss_decreases_on_a_fixed_batch():
    module = tiny_vae_module()
    history = train_steps(module, drum_audio(4), steps=25)
    assert history[-1]["reconstruction"] < 0.6 * history[0]["reconstruction"]
    for h in history:  # the total is exactly reconstruction + kl_weight * kl
        assert h["loss"] == pytest.approx(h["reconstruction"] + 1e-6 * h["kl"], rel=1e-5)


def test_mel_images_go_through_unchanged():
    module = tiny_vae_module()
    images = module.representation.encode(drum_audio(2))
    torch.manual_seed(0)
    from_audio = module.losses(module.representation.encode(drum_audio(2)), sample=False)["loss"]
    from_images = module.losses(module.representation.encode(images), sample=False)["loss"]
    assert torch.equal(from_audio, from_images)


def test_kl_weight_pulls_the_posterior_towards_the_prior():
    batch = drum_audio(4)
    free = train_steps(tiny_vae_module(kl_weight=0.0), batch, steps=15)
    tied = train_steps(tiny_vae_module(kl_weight=1.0), batch, steps=15)
    assert free[0]["kl"] == pytest.approx(tied[0]["kl"])  # same initialisation
    assert tied[-1]["kl"] < 0.5 * free[-1]["kl"]


def test_mse_loss_and_bad_settings():
    module = tiny_vae_module(reconstruction_loss="mse")
    images = module.representation.encode(drum_audio(2))
    with torch.no_grad():
        out = module.losses(images, sample=False)
    assert float(out["reconstruction"]) == pytest.approx(float((out["recon"] - images).square().mean()), rel=1e-5)
    # Hydra wraps the constructor's ValueError, keeping its message.
    with pytest.raises(InstantiationException, match="reconstruction_loss"):
        tiny_vae_module(reconstruction_loss="lpips")
    with pytest.raises(InstantiationException, match="kl_weight"):
        tiny_vae_module(kl_weight=-1.0)
    with pytest.raises(InstantiationException, match="not a multiple of the VAE's downsampling"):
        tiny_vae_module(representation={"_target_": "src.representations.mel.MelRepresentation", **MEL, "x_res": 18})


def test_spectral_convergence():
    audio = drum_audio(2)[:, 0]
    assert torch.allclose(spectral_convergence(audio, audio, 256, 64), torch.zeros(2), atol=1e-6)
    # Level differences are not errors when matched; they are when not.
    assert torch.allclose(spectral_convergence(audio, 0.3 * audio, 256, 64), torch.zeros(2), atol=1e-5)
    unmatched = spectral_convergence(audio, 0.3 * audio, 256, 64, match_level=False)
    assert torch.allclose(unmatched, torch.full((2,), 0.7), atol=1e-5)
    assert torch.allclose(spectral_convergence(audio, torch.zeros_like(audio), 256, 64, False), torch.ones(2))
    noisy = spectral_convergence(audio, audio + 0.2 * torch.randn_like(audio), 256, 64)
    assert (noisy > 0.05).all() and (noisy < 1).all()


def test_mel_l1_is_in_db_and_level_independent():
    audio = drum_audio(2)[:, 0]

    def l1(estimate):
        return mel_l1_db(audio, estimate, MEL["sample_rate"], 256, 64, 16, 80.0)

    assert torch.allclose(l1(audio), torch.zeros(2), atol=1e-3)
    assert torch.allclose(l1(0.1 * audio), torch.zeros(2), atol=1e-3)  # -20 dB overall: no error
    # A lowpassed copy loses its top bands: a clear error, bounded by the 80 dB range kept.
    spectrum = torch.fft.rfft(audio)
    spectrum[:, spectrum.shape[1] // 4:] = 0
    lowpassed = l1(torch.fft.irfft(spectrum, n=audio.shape[1]))
    assert (lowpassed > 3).all() and (lowpassed < 80).all()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Two optimizer steps and one validation through Lightning, with a CSV logger."""
    root = tmp_path_factory.mktemp("vae_fit")
    module = tiny_vae_module(media_dir=str(root / "media"))
    train = DataLoader(list(drum_audio(8, seed=1)), batch_size=4)
    val = DataLoader(list(drum_audio(4, seed=2)), batch_size=4)
    trainer = pl.Trainer(max_steps=2, logger=pl.loggers.CSVLogger(root), default_root_dir=root,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, accelerator="cpu")
    trainer.fit(module, train, val)
    trainer.save_checkpoint(root / "vae.ckpt")
    return trainer, module, root


def test_validation_logs_finite_metrics(fitted):
    trainer, _, _ = fitted
    for name in ("val/loss", "val/reconstruction", "val/kl", "val/mel_l1", "val/spectral_convergence"):
        assert math.isfinite(float(trainer.callback_metrics[name])), name
    assert 0 < float(trainer.callback_metrics["val/mel_l1"]) < 80  # dB, within the image's 80 dB range


def test_validation_writes_mel_pngs_and_griffin_lim_wavs(fitted):
    _, _, root = fitted
    folder = root / "media" / "step_0000002"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{kind}_{i:02d}.{ext}" for kind in ("input", "reconstruction")
                           for i in range(2) for ext in ("png", "wav"))
    with Image.open(folder / "input_00.png") as image:
        assert image.mode == "L" and image.size == (MEL["x_res"], MEL["y_res"])
    import soundfile as sf
    audio, rate = sf.read(folder / "reconstruction_01.wav")
    assert rate == MEL["sample_rate"] and len(audio) == LENGTH


def test_checkpoint_holds_the_run_config_and_exports(fitted, tmp_path):
    _, module, root = fitted
    checkpoint = torch.load(root / "vae.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["config"]["task_name"] == "vae_test"
    vae, mel_config = load_vae_checkpoint(root / "vae.ckpt")
    assert mel_config["hop_length"] == MEL["hop_length"]
    out = export_vae(root / "vae.ckpt", tmp_path / "exported")
    loaded = AutoencoderKL.from_pretrained(out, local_files_only=True)
    images = module.representation.encode(drum_audio(2, seed=3))
    with torch.no_grad():
        expected = module.vae.eval().decode(module.vae.encode(images).latent_dist.mode()).sample
        actual = loaded.decode(loaded.encode(images).latent_dist.mode()).sample
    assert torch.equal(expected, actual)
    with pytest.raises(FileExistsError, match="overwrite"):
        export_vae(root / "vae.ckpt", out)
    export_main([f"ckpt={root / 'vae.ckpt'}", f"out_dir={out}", "overwrite=true"])


def test_loading_a_non_vae_checkpoint_is_a_clear_error(tmp_path):
    module = tiny_vae_module()
    module.run_config["model"] = {"_target_": "src.models.diffusion_module.AudioDiffusionModule"}
    path = save_vae_checkpoint(module, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not a VAE"):
        load_vae_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        load_vae_checkpoint(tmp_path / "missing.ckpt")
