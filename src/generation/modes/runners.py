"""generate.py's modes: each turns the parsed arguments into a list of clips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

from src.audio.io import fit_length, read_audio, resample, to_channels
from src.generation.modes import modes
from src.models.diffusion_module import AudioDiffusionModule
from src.samplers.base import Sampler
from src.samplers.registry import DETERMINISTIC

# Samplers each mode accepts: inversion (interpolate) is DDIM's; the others take any sampler that can
# put the kept region back after a step (every one but diffusers' DDPM scheduler).
MODE_SAMPLERS = {"variation": (*DETERMINISTIC, "ancestral"), "inpaint": (*DETERMINISTIC, "ancestral"),
                 "continue": (*DETERMINISTIC, "ancestral"), "interpolate": ("ddim", "euler")}
Clips = list[torch.Tensor]
Images = list[torch.Tensor | None]  # the generated image per clip, for image representations (mel)
Outputs = tuple[Clips, Images]


def audio_only(clips: Clips) -> Outputs:
    return clips, [None] * len(clips)


def load_input(path: str | None, model: AudioDiffusionModule, name: str = "init_audio",
               length: int | None = None) -> torch.Tensor:
    """Read an input file at the model's rate and channel count.

    With `length` the audio is cropped from the start, or zero-padded at the end when shorter."""
    if not path:
        raise ValueError(f"this mode needs {name}=<audio file>")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{name}: no such file: {path}")
    audio, rate = read_audio(path)
    rep = model.representation
    audio = to_channels(resample(audio, rate, rep.sample_rate), rep.channels)
    return fit_length(audio, length) if length else audio


def seconds(value: float, model: AudioDiffusionModule) -> int:
    return int(round(value * model.representation.sample_rate))


def keep_mask(args, model: AudioDiffusionModule, length: int) -> torch.Tensor:
    """Samples to keep, from `keep=[[start, end], ...]` seconds or teticio's mask_start/end_secs."""
    keep = torch.zeros(length, dtype=torch.bool)
    for span in args.keep or []:
        if len(span) != 2 or span[0] >= span[1]:
            raise ValueError(f"keep spans are [start, end] in seconds with start < end, got {list(span)}")
        keep[seconds(span[0], model): seconds(span[1], model)] = True
    if args.mask_start_secs:
        keep[: seconds(args.mask_start_secs, model)] = True
    if args.mask_end_secs:
        keep[length - seconds(args.mask_end_secs, model):] = True
    if keep.all() or not keep.any():
        raise ValueError("inpainting needs some audio to keep and some to regenerate: set keep=[[start,end]] "
                         "or mask_start_secs / mask_end_secs to cover part of the clip")
    return keep


def mode_sampler(args, model: AudioDiffusionModule) -> Sampler:
    """The sampler a mode runs: `sampler=` if given (checked against the mode), else DDIM."""
    allowed = MODE_SAMPLERS.get(args.mode)
    return model.make_sampler(args.sampler or "ddim", args.eta, allowed, f"mode={args.mode}")


def run_sample(args, model, generator) -> Outputs:
    """Batches of `batch_size`; noise comes from one CPU generator, so the audio depends on
    the seed only (not on batch size or device)."""
    clips: Clips = []
    images: Images = []
    for first in tqdm(range(0, args.num_samples, args.batch_size), desc="sampling", unit="batch"):
        noise = model.noise(min(args.batch_size, args.num_samples - first), generator, args.length)
        tensors = model.sample_tensors(noise, args.steps, sampler=args.sampler, eta=args.eta)
        clips += list(model.decode_audio(tensors).cpu())
        images += [model.representation.image(x) for x in tensors]
    return clips, images


def run_variation(args, model, generator) -> Outputs:
    audio = load_input(args.init_audio, model, length=model.representation.length)
    sampler = mode_sampler(args, model)
    return audio_only([modes.variation(model, audio, args.strength, args.steps, generator, sampler)
                       for _ in range(args.num_samples)])


def run_inpaint(args, model, generator) -> Outputs:
    audio = load_input(args.init_audio, model, length=model.representation.length)
    keep = keep_mask(args, model, audio.shape[-1])
    sampler = mode_sampler(args, model)
    return audio_only([modes.inpaint(model, audio, keep, args.steps, generator, args.resample, sampler)
                       for _ in range(args.num_samples)])


def run_continue(args, model, generator) -> Outputs:
    if args.init_audio:
        audio = load_input(args.init_audio, model)
    else:
        audio = model.generate(1, steps=args.steps, generator=generator)[0].cpu()
    overlap, fade = seconds(args.overlap, model), seconds(args.crossfade, model)
    sampler = mode_sampler(args, model)
    return audio_only([modes.continuation(model, audio, args.segments, overlap, fade, args.steps, generator,
                                          args.resample, sampler) for _ in range(args.num_samples)])


def run_interpolate(args, model, generator) -> Outputs:
    length = model.representation.length
    first = load_input(args.init_audio, model, length=length)
    second = load_input(args.init_audio2, model, "init_audio2", length=length)
    mode_sampler(args, model)  # only checks: interpolation is DDIM inversion + DDIM
    return audio_only(modes.interpolate(model, first, second, args.num_samples, args.steps))


MODES: dict[str, Callable[..., Outputs]] = {
    "sample": run_sample,
    "variation": run_variation,
    "inpaint": run_inpaint,
    "continue": run_continue,
    "interpolate": run_interpolate,
}


def run_mode(args, model: AudioDiffusionModule, generator: torch.Generator) -> Outputs:
    if args.mode not in MODES:
        raise ValueError(f"mode={args.mode} is not one of {', '.join(MODES)}")
    clips, images = MODES[args.mode](args, model, generator)
    if args.loop:  # the loop regenerates a seam: the clips no longer match the images they came from
        seam = seconds(args.loop_seam, model)
        sampler = model.make_sampler(args.sampler or "ddim", args.eta, MODE_SAMPLERS["inpaint"], "loop=true")
        return audio_only([modes.make_loop(model, clip, seam, args.steps, generator, args.resample, sampler)
                           for clip in clips])
    return clips, images
