"""Generation modes on the mel family: kept spans survive within the representation's round trip."""

from __future__ import annotations

import hydra
import pytest
import torch

from src.generation.modes import modes
from tests.conftest import compose_config

STEPS = 6


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return hydra.utils.instantiate(compose_config(["exp=mel_diffusion_demo", "debug=tiny"]).model).eval()


@pytest.fixture
def audio():
    t = torch.arange(1023) / 8000
    return (0.5 * torch.sin(2 * torch.pi * 440 * t) * torch.exp(-t * 6)).unsqueeze(0)


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def test_inpainting_keeps_spans_in_mel_and_waveform(model, audio):
    rep = model.representation
    keep = torch.zeros(1023, dtype=torch.bool)
    keep[:512] = True
    out = modes.inpaint(model, audio, keep, STEPS, gen())
    round_trip = rep.decode(rep.encode(audio.unsqueeze(0)))[0]
    columns = rep.time_mask(keep).bool()
    # Columns whose STFT window reaches into the regenerated audio cannot match after re-encoding.
    frames = torch.arange(len(columns))
    interior = columns & (frames * rep.hop_length + rep.n_fft // 2 < 512)
    assert interior.sum() >= 4
    mel_out, mel_ref = rep.encode(out.unsqueeze(0))[..., interior], rep.encode(audio.unsqueeze(0))[..., interior]
    # In the representation: kept columns of the output match the input's (within a couple of grey
    # levels: each image is scaled to its own peak).
    assert (mel_out - mel_ref).abs().mean() < 0.05
    # In the waveform: the kept span is the input's own audio, not the Griffin-Lim round trip, up to
    # the two columns before the gap where it blends into the regenerated audio.
    reach = 2 * rep.hop_length
    assert torch.equal(out[..., : 512 - reach], audio[..., : 512 - reach])
    assert (round_trip[..., : 512 - reach] - audio[..., : 512 - reach]).abs().max() > 1e-3  # which would differ
    regenerated = ~columns
    assert (rep.encode(out.unsqueeze(0))[..., regenerated] - rep.encode(audio.unsqueeze(0))[..., regenerated]).abs().mean() > 0.05


def test_variation_strength_zero_is_the_round_trip(model, audio):
    rep = model.representation
    out = modes.variation(model, audio, 0.0, STEPS, gen())
    assert torch.allclose(out, rep.decode(rep.encode(audio.unsqueeze(0)))[0].clamp(-1, 1), atol=1e-5)
    assert (modes.variation(model, audio, 1.0, STEPS, gen()) - out).abs().mean() > 1e-4


def test_continuation_and_interpolation_run_for_mel(model, audio):
    out = modes.continuation(model, audio, segments=2, overlap=256, fade=64, steps=STEPS, generator=gen())
    assert out.shape[-1] == 1023 + 2 * (1023 - 256)
    clips = modes.interpolate(model, audio, audio.roll(100, -1), count=3, steps=STEPS)
    assert len(clips) == 3 and clips[0].shape == (1, 1023)


def test_modes_run_for_the_latent_family(tmp_path, monkeypatch):
    from tests.latent_helpers import latent_model_config, save_vae_checkpoint, tiny_vae_module

    vae = save_vae_checkpoint(tiny_vae_module(), tmp_path / "vae.ckpt")
    config = latent_model_config(vae)
    config["representation"]["scaling_factor"] = 1.0
    torch.manual_seed(0)
    latent = hydra.utils.instantiate(config).eval()
    rep = latent.representation
    t = torch.arange(rep.length) / rep.sample_rate
    clip = (0.5 * torch.sin(2 * torch.pi * 300 * t) * torch.exp(-t * 6)).unsqueeze(0)
    keep = torch.zeros(rep.length, dtype=torch.bool)
    keep[: rep.length // 2] = True
    decoded = []  # the latents inpaint hands to the decoder
    real_decode = modes._decode
    monkeypatch.setattr(modes, "_decode", lambda model, x: decoded.append(x.clone()) or real_decode(model, x))
    out = modes.inpaint(latent, clip, keep, STEPS, gen())
    # Kept latent columns are exactly the input's latents; the others were generated anew.
    columns = rep.time_mask(keep).bool()
    assert columns.any() and not columns.all()
    latents = rep.encode(clip.unsqueeze(0))
    kept = columns.expand_as(latents)
    assert torch.equal(decoded[0][kept], latents[kept])
    assert not torch.allclose(decoded[0][~kept], latents[~kept], atol=1e-3)
    round_trip = rep.decode(latents)[0]
    assert out.shape == round_trip.shape
    assert torch.allclose(modes.variation(latent, clip, 0.0, STEPS, gen()), round_trip.clamp(-1, 1), atol=1e-5)
    assert modes.continuation(latent, clip, 1, rep.length // 2, 16, STEPS, gen()).shape[-1] == rep.length + rep.length // 2 + 1
