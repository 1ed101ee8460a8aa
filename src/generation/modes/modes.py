"""Variation, inpainting/outpainting, continuation, loops and interpolation.

Each mode encodes audio with the model's representation, runs the masked sampling and
inversion of `ddim.py` on the model's process, and decodes. Audio tensors are (channels, samples) at the
model's sample rate."""

from __future__ import annotations

import math

import torch

from src.generation.modes.ddim import Known, add_noise, ddim_invert, masked_sample
from src.models.diffusion_module import AudioDiffusionModule
from src.networks.conditioning import mix_labels
from src.samplers.base import Denoiser, Sampler


def _encode(model: AudioDiffusionModule, audio: torch.Tensor) -> torch.Tensor:
    return model.representation.encode(audio.unsqueeze(0).to(model.device))


def _decode(model: AudioDiffusionModule, x: torch.Tensor) -> torch.Tensor:
    return model.representation.decode(x).float().clamp(-1.0, 1.0)[0].cpu()


def kept_weights(keep: torch.Tensor, fade: int) -> torch.Tensor:
    """Per-sample weight of the input in an inpainted clip: 1 inside kept spans, 0 where regenerated,
    rising linearly over the `fade` kept samples next to a regenerated span. The clip's own ends count
    as kept, so a span kept from the start or to the end is whole there."""
    if fade <= 0:
        return keep.float()
    index = torch.arange(keep.shape[-1], dtype=torch.float32)
    # distance to the nearest regenerated sample before and after (inf past the clip's ends)
    before = index - torch.where(keep, -math.inf, index).cummax(0).values
    after = torch.where(keep, math.inf, index).flip(0).cummin(0).values.flip(0) - index
    return (torch.minimum(before, after) / fade).clamp(max=1.0)


def _paste_kept(model: AudioDiffusionModule, audio: torch.Tensor, generated: torch.Tensor,
                keep: torch.Tensor) -> torch.Tensor:
    """The input's own samples back where they are kept. A representation whose columns overlap (an
    MDCT frame, an STFT window, a VAE's receptive field) re-synthesises a kept sample near a gap
    partly from regenerated columns, and a lossy one (mel, latent) all of them; pasting the input
    back, blended in over two columns' worth of samples next to each gap, keeps every kept sample
    that is not beside a gap exactly and joins the two without a step."""
    columns = model.representation.tensor_shape(keep.shape[-1])[-1]
    weights = kept_weights(keep.cpu(), 2 * math.ceil(keep.shape[-1] / columns))
    return weights * audio.to(generated.dtype) + (1.0 - weights) * generated


def _noise(shape: torch.Size, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randn(shape, generator=generator).to(device)


def _or_default(model: AudioDiffusionModule, denoiser: Denoiser | None) -> Denoiser:
    """The denoiser a mode runs: the caller's (a label under guidance), else the unconditional one."""
    return model.denoiser if denoiser is None else denoiser


@torch.no_grad()
def variation(model: AudioDiffusionModule, audio: torch.Tensor, strength: float, steps: int,
              generator: torch.Generator, sampler: Sampler | None = None,
              denoiser: Denoiser | None = None) -> torch.Tensor:
    """Noise the input to the level `strength` (0 keeps it, 1 is pure noise) and denoise from there.
    Every mode takes a `denoiser` (model.conditioned(label, cfg_scale)) to steer it to a class."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength}")
    x0 = _encode(model, audio)
    denoiser = _or_default(model, denoiser)
    levels = denoiser.levels(steps).to(model.device)
    start = round((1.0 - strength) * steps)
    x = add_noise(denoiser, x0, levels[start], _noise(x0.shape, generator, model.device))
    return _decode(model, masked_sample(denoiser, x, levels, start=start, generator=generator, sampler=sampler))


@torch.no_grad()
def inpaint(model: AudioDiffusionModule, audio: torch.Tensor, keep: torch.Tensor, steps: int,
            generator: torch.Generator, resample: int = 1, sampler: Sampler | None = None,
            denoiser: Denoiser | None = None) -> torch.Tensor:
    """Regenerate where `keep` (bool per sample) is False, keeping the rest (RePaint-style): the kept
    samples are the input's own, blended into the regenerated audio next to each gap."""
    if keep.shape[-1] != audio.shape[-1]:
        raise ValueError("the keep mask must have one entry per audio sample")
    x0 = _encode(model, audio)
    mask = model.representation.time_mask(keep.cpu()).to(model.device)
    denoiser = _or_default(model, denoiser)
    levels = denoiser.levels(steps).to(model.device)
    x = model.process.prior(_noise(x0.shape, generator, model.device), levels[0])
    known = Known(x0=x0, mask=mask)
    out = _decode(model, masked_sample(denoiser, x, levels, known=known, resample=resample,
                                       generator=generator, sampler=sampler))
    return _paste_kept(model, audio.cpu(), out, keep)


def _crossfade_join(head: torch.Tensor, tail: torch.Tensor, fade: int) -> torch.Tensor:
    """head + tail where the last `fade` samples of head blend into the first of tail."""
    if fade <= 0:
        return torch.cat([head, tail], dim=-1)
    ramp = torch.linspace(0.0, 1.0, fade)
    blended = head[..., -fade:] * (1 - ramp) + tail[..., :fade] * ramp
    return torch.cat([head[..., :-fade], blended, tail[..., fade:]], dim=-1)


@torch.no_grad()
def continuation(model: AudioDiffusionModule, audio: torch.Tensor, segments: int, overlap: int, fade: int,
                 steps: int, generator: torch.Generator, resample: int = 1,
                 sampler: Sampler | None = None, denoiser: Denoiser | None = None) -> torch.Tensor:
    """Extend `audio` by `segments` windows, each outpainted from the last `overlap` samples.

    The result has len(audio) + segments * (window - overlap) samples."""
    window = model.representation.length
    if not 0 < overlap < window or audio.shape[-1] < overlap:
        raise ValueError(f"overlap must be in (0, {window}) samples and no longer than the input")
    if not 0 <= fade <= overlap:
        raise ValueError("the crossfade must not be longer than the overlap")
    out = audio
    keep = torch.zeros(window, dtype=torch.bool)
    keep[:overlap] = True
    for _ in range(segments):
        context = torch.nn.functional.pad(out[..., -overlap:], (0, window - overlap))
        new = inpaint(model, context, keep, steps, generator, resample, sampler, denoiser)
        # Join inside the kept overlap: the regenerated window's copy of it blends in.
        out = _crossfade_join(out, new[..., overlap - fade:], fade)
    return out


@torch.no_grad()
def make_loop(model: AudioDiffusionModule, audio: torch.Tensor, seam: int, steps: int,
              generator: torch.Generator, resample: int = 1, sampler: Sampler | None = None,
              denoiser: Denoiser | None = None) -> torch.Tensor:
    """A clip (of at least the model's length) whose end runs seamlessly into its start.

    Rotating by half a window puts the end->start join inside the first window; regenerating
    `seam` samples around it and rotating back leaves the join inside freshly generated,
    continuous audio. Everything outside the seam is kept."""
    window, length = model.representation.length, audio.shape[-1]
    if length < window:
        raise ValueError(f"a loop needs at least {window} samples (the model's length), got {length}")
    if not 0 < seam < window:
        raise ValueError(f"the loop seam must be between 0 and {window} samples")
    rolled = torch.roll(audio, window // 2, dims=-1)
    keep = torch.ones(window, dtype=torch.bool)
    keep[window // 2 - seam // 2: window // 2 + seam // 2] = False
    rolled[..., :window] = inpaint(model, rolled[..., :window], keep, steps, generator, resample, sampler, denoiser)
    return torch.roll(rolled, -(window // 2), dims=-1)


def slerp(a: torch.Tensor, b: torch.Tensor, weight: float) -> torch.Tensor:
    """Spherical interpolation: keeps interpolated Gaussian noise at the norm the model expects."""
    cos = (a * b).sum() / (a.norm() * b.norm())
    angle = torch.arccos(cos.clamp(-1.0, 1.0))
    if angle.abs() < 1e-6:
        return (1 - weight) * a + weight * b
    return (torch.sin((1 - weight) * angle) * a + torch.sin(weight * angle) * b) / math.sin(angle)


@torch.no_grad()
def interpolate(model: AudioDiffusionModule, first: torch.Tensor, second: torch.Tensor, count: int,
                steps: int, labels: tuple[int, int] | None = None, cfg_scale: float | None = None) -> list[torch.Tensor]:
    """`count` clips from `first` to `second`: DDIM-invert both, slerp the noises, decode.

    Inversion and sampling are both DDIM, so the endpoints come back as the inputs. With `labels`
    (a class id per end) each end is inverted under its own label, and each clip between them is
    sampled with the two label embeddings mixed in the same proportion as the noises."""
    if count < 2:
        raise ValueError("interpolation needs at least 2 clips (the two endpoints)")
    levels = model.denoiser.levels(steps).to(model.device)

    def denoiser_at(weight: float) -> Denoiser:
        if labels is None:
            return model.denoiser
        return model.conditioned(mix_labels(*labels, weight, len(model.labels)), cfg_scale)

    noises = [ddim_invert(denoiser_at(weight), _encode(model, clip), levels)
              for clip, weight in ((first, 0.0), (second, 1.0))]
    clips = []
    for weight in torch.linspace(0.0, 1.0, count).tolist():
        z = slerp(noises[0], noises[1], weight)
        clips.append(_decode(model, masked_sample(denoiser_at(weight), z, levels)))
    return clips
