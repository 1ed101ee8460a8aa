"""Every generation mode runs on every process, with each sampler the mode accepts."""

from __future__ import annotations

import hydra
import pytest
import torch

from src.generation.modes import modes
from src.generation.modes.ddim import Known, masked_sample
from tests.conftest import compose_config

STEPS = 6
PROCESSES = ["v_cosine", "edm", "rectified_flow", "ddpm"]


@pytest.fixture(scope="module", params=PROCESSES)
def model(request):
    torch.manual_seed(0)
    gate = [] if request.param == "v_cosine" else ["model.network.gate=false"]  # only v_cosine reads the demo's gate
    # raw samples, so that a kept span is kept in the model tensor itself, sample for sample
    cfg = compose_config(["exp=drum_diffusion_demo", "debug=tiny", f"model/process={request.param}", *gate,
                          "model.representation.mdct_bands=0", "model.representation.mdct_low_bands=0"])
    return hydra.utils.instantiate(cfg.model).eval()


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def clip() -> torch.Tensor:
    t = torch.arange(1024) / 8000
    return (0.4 * torch.sin(2 * torch.pi * 300 * t) * torch.exp(-t * 8)).unsqueeze(0)


@pytest.mark.parametrize("sampler", ["ddim", "dpmpp_2m", "ancestral"])  # heun: in the variation test
def test_inpainting_keeps_spans_with_every_sampler(model, sampler):
    keep = torch.zeros(1024, dtype=torch.bool)
    keep[:400] = True
    out = modes.inpaint(model, clip(), keep, STEPS, gen(), sampler=model.make_sampler(sampler))
    assert out.shape == (1, 1024) and torch.isfinite(out).all()
    # the sampler itself keeps the span (before inpaint pastes the input back): the last level is clean
    x0 = model.representation.encode(clip().unsqueeze(0))
    levels = model.denoiser.levels(STEPS)
    x = model.process.prior(torch.randn(x0.shape, generator=gen()), levels[0])
    sampled = masked_sample(model.denoiser, x, levels, known=Known(x0=x0, mask=model.representation.time_mask(keep)),
                            generator=gen(), sampler=model.make_sampler(sampler))
    assert (sampled[..., keep] - x0[..., keep]).abs().max() < 1e-5
    assert (sampled[..., ~keep] - x0[..., ~keep]).abs().mean() > 1e-3


def test_variation_continuation_loop_and_interpolation(model):
    audio = clip()
    assert torch.allclose(modes.variation(model, audio, 0.0, STEPS, gen()), audio, atol=1e-5)
    varied = modes.variation(model, audio, 0.5, STEPS, gen(), sampler=model.make_sampler("heun"))
    assert varied.shape == audio.shape and torch.isfinite(varied).all()
    longer = modes.continuation(model, audio, segments=1, overlap=256, fade=32, steps=STEPS, generator=gen())
    assert longer.shape[-1] == 1024 + (1024 - 256)
    looped = modes.make_loop(model, audio, seam=128, steps=STEPS, generator=gen(),
                             sampler=model.make_sampler("dpmpp_2m"))
    assert looped.shape == audio.shape and torch.isfinite(looped).all()
    clips = modes.interpolate(model, audio, -audio, count=3, steps=STEPS)
    assert len(clips) == 3 and all(torch.isfinite(c).all() for c in clips)


def test_resample_needs_ddim(model):
    keep = torch.zeros(1024, dtype=torch.bool)
    keep[:400] = True
    with pytest.raises(ValueError, match="resample=2 needs sampler=ddim"):
        modes.inpaint(model, clip(), keep, STEPS, gen(), resample=2, sampler=model.make_sampler("heun"))
