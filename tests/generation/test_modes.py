"""Generation modes on the waveform family (a tiny model: the checks are constraints that
must hold for any weights). Mel and latent families are covered in their own tests."""

from __future__ import annotations

import hydra
import pytest
import torch
from audio_diffusion_pytorch import VSampler

from src.generation.modes import modes
from src.generation.modes.ddim import masked_sample
from tests.conftest import compose_config

STEPS = 8


@pytest.fixture(scope="module", params=["samples", "mdct"])
def model(request):
    """The tiny waveform model on raw samples, and on the demo's 32-band MDCT of them."""
    torch.manual_seed(0)
    bands = ["model.representation.mdct_bands=0", "model.representation.mdct_low_bands=0"] if request.param == "samples" else []
    return hydra.utils.instantiate(compose_config(["exp=drum_diffusion_demo", "debug=tiny", *bands]).model).eval()


@pytest.fixture
def audio():
    t = torch.arange(1024) / 8000
    return (0.4 * torch.sin(2 * torch.pi * 300 * t) * torch.exp(-t * 8)).unsqueeze(0)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_ddim_loop_equals_the_libraries_vsampler():
    # ADP's VSampler calls its UNetV0 directly: no position channels, no gate, raw samples, even steps,
    # and no exposure-bias correction
    torch.manual_seed(0)
    model = hydra.utils.instantiate(compose_config([
        "exp=drum_diffusion_demo", "debug=tiny", "model/process=v_cosine", "model.network.position_features=0",
        "model.network.gate=false", "model.network.level_features=false",
        "model.representation.scale=1.0", "model.representation.mdct_bands=0",
        "model.representation.mdct_low_bands=0", "model.eps_scaling=0"]).model).eval()
    noise = torch.randn(2, 1, 1024, generator=gen())
    ours = masked_sample(model.denoiser, noise, model.denoiser.levels(STEPS))
    library = model.network.net  # ADP's own VSampler on the same UNetV0 weights
    reference = VSampler(net=library)(noise, num_steps=STEPS)
    assert torch.allclose(ours, reference, atol=1e-6)
    assert torch.allclose(model.sample_tensors(noise, STEPS), reference, atol=1e-6)


def test_variation_strength_zero_returns_input_and_one_ignores_it(model, audio):
    assert torch.allclose(modes.variation(model, audio, 0.0, STEPS, gen()), audio, atol=1e-6)
    full = modes.variation(model, audio, 1.0, STEPS, gen())
    assert (full - audio).abs().mean() > 0.1
    # Strength 1 ignores the input: another input gives the same output.
    assert torch.allclose(modes.variation(model, -audio, 1.0, STEPS, gen()), full, atol=1e-4)
    with pytest.raises(ValueError, match="strength"):
        modes.variation(model, audio, 1.5, STEPS, gen())


def test_clips_sampled_from_noise_end_in_the_demos_fade_and_nothing_else_changes(model):
    # the demo's end_fade_ms (16 ms: 128 samples at the tiny config's 8 kHz); variation at strength 0
    # (above) shows the modes leave their input's end alone
    tensors = model.sample_tensors(model.noise(2, gen()), 2)
    plain = model.representation.decode(tensors).float().clamp(-1.0, 1.0)
    clips = model.decode_audio(tensors)
    n = model.representation.end_fade
    assert n == 128
    assert torch.equal(clips[..., :-n], plain[..., :-n]) and bool((clips[..., -1] == 0).all())
    assert clips[..., -n:].abs().sum() < plain[..., -n:].abs().sum()


def test_kept_weights_ramp_beside_each_gap_and_not_at_the_clip_ends():
    keep = torch.tensor([1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1], dtype=torch.bool)
    weights = modes.kept_weights(keep, 3)
    expected = torch.tensor([1, 1, 1, 2 / 3, 1 / 3, 0, 0, 1 / 3, 2 / 3, 1, 1, 1])
    assert torch.allclose(weights, expected)
    assert torch.equal(modes.kept_weights(keep, 0), keep.float())


def test_inpainting_keeps_the_kept_spans(model, audio):
    keep = torch.zeros(1024, dtype=torch.bool)
    keep[:300] = True
    keep[-200:] = True
    out = modes.inpaint(model, audio, keep, STEPS, gen(), resample=2)
    # the input's own samples, whole from the clip's ends up to two columns (MDCT hops) before each gap
    reach = 2 * (model.representation.mdct.bands if model.representation.mdct is not None else 1)
    assert torch.equal(out[:, : 300 - reach], audio[:, : 300 - reach])
    assert torch.equal(out[:, -200 + reach:], audio[:, -200 + reach:])
    assert (out[:, ~keep] - audio[:, ~keep]).abs().mean() > 1e-3  # the rest was regenerated


def test_same_seed_same_output(model, audio):
    keep = torch.zeros(1024, dtype=torch.bool)
    keep[:512] = True
    first = modes.inpaint(model, audio, keep, STEPS, gen(3))
    assert torch.equal(first, modes.inpaint(model, audio, keep, STEPS, gen(3)))
    assert not torch.equal(first, modes.inpaint(model, audio, keep, STEPS, gen(4)))


def test_continuation_has_the_requested_length_and_keeps_the_input(model, audio):
    out = modes.continuation(model, audio, segments=3, overlap=256, fade=64, steps=STEPS, generator=gen())
    assert out.shape == (1, 1024 + 3 * (1024 - 256))
    assert torch.allclose(out[:, : 1024 - 64], audio[:, : 1024 - 64])


def test_loop_joins_without_a_spike(model):
    ramp = torch.linspace(-0.5, 0.5, 2048).unsqueeze(0)  # a clip whose end jumps back to its start
    looped = modes.make_loop(model, ramp, seam=256, steps=STEPS, generator=gen())
    assert looped.shape == ramp.shape
    assert (ramp[0, 0] - ramp[0, -1]).abs() > 0.99  # the naive loop jumps by ~1
    # The join lies inside one stretch of regenerated audio: the seam's 128 samples either side of it
    # are new, and everything farther away (past two columns of blending) is the input's own.
    reach = 2 * (model.representation.mdct.bands if model.representation.mdct is not None else 1)
    assert torch.equal(looped[:, 128 + reach: -128 - reach], ramp[:, 128 + reach: -128 - reach])
    assert (looped[:, :64] - ramp[:, :64]).abs().mean() > 1e-3 and (looped[:, -64:] - ramp[:, -64:]).abs().mean() > 1e-3
    # ... so the step across it is one the model makes inside the seam, not the ramp's jump
    inside = torch.cat([looped[:, -128:].diff(dim=-1), looped[:, :128].diff(dim=-1)], dim=-1).abs()
    assert (looped[0, 0] - looped[0, -1]).abs() <= inside.max()


def test_interpolation_endpoints_reproduce_inputs(model, audio):
    other = audio.roll(200, dims=-1)
    clips = modes.interpolate(model, audio, other, count=3, steps=50)
    assert len(clips) == 3
    # DDIM inversion error with 50 steps on this model (measured ~0.03 max abs).
    assert (clips[0] - audio).abs().max() < 0.1
    assert (clips[-1] - other).abs().max() < 0.1
    assert (clips[1] - clips[0]).abs().mean() > 1e-3


def test_interpolation_endpoints_survive_eps_scaling(model, audio):
    # inversion divides the noise as sampling does; without it the MDCT model's endpoints drifted
    # 0.26 at c = 1 (measured), with it they stay within the plain round trip's tolerance
    before, model.eps_scaling = model.eps_scaling, 1.0
    try:
        clips = modes.interpolate(model, audio, audio.roll(200, dims=-1), count=2, steps=50)
    finally:
        model.eps_scaling = before
    assert (clips[0] - audio).abs().max() < 0.1


def test_slerp_endpoints_and_norm():
    a, b = torch.randn(1000, generator=gen(1)), torch.randn(1000, generator=gen(2))
    assert torch.allclose(modes.slerp(a, b, 0.0), a, atol=1e-5)
    assert torch.allclose(modes.slerp(a, b, 1.0), b, atol=1e-5)
    assert abs(modes.slerp(a, b, 0.5).norm() / a.norm() - 1) < 0.1  # linear mixing would shrink it ~30%
