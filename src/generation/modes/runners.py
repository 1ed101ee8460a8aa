"""generate.py's modes: each turns the parsed arguments into a list of clips.

With `label=` a class-conditional model runs the mode under that label (classifier-free
guidance at `cfg_scale`, default the model's); `label=all` runs it once per label, and `label=any`
gives each clip a label drawn at random."""

from __future__ import annotations

import dataclasses
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
NO_LABEL = (None, "", "null", "none")
ANY_LABEL = "any"  # each clip's class drawn at random, with equal odds


def audio_only(clips: Clips) -> Outputs:
    return clips, [None] * len(clips)


def requested_labels(args, model: AudioDiffusionModule) -> list[str | None]:
    """The labels to run: [None] (unconditional: the null label), one name, or every name for `all`
    and `any`."""
    if args.label in NO_LABEL:
        if args.label2 not in NO_LABEL:
            raise ValueError("label2 is the second end of an interpolation: set label= too")
        return [None]
    if not model.labels:
        raise ValueError(f"label={args.label}: this model was trained without labels; leave label unset")
    if args.label in ("all", ANY_LABEL):
        return list(model.labels)
    model.label_ids([str(args.label)])  # an unknown name lists the known ones
    return [str(args.label)]


def label_runs(args, model: AudioDiffusionModule, generator: torch.Generator) -> list[tuple[str | None, object]]:
    """(label, arguments) per run of the mode. `label=any` draws each of the num_samples clips'
    labels from `generator` with equal odds, then makes each label's clips in one run of its count,
    in vocabulary order; every other label keeps `args` as they are."""
    labels = requested_labels(args, model)
    if args.label != ANY_LABEL:
        return [(label, args) for label in labels]
    if args.mode == "interpolate":
        raise ValueError("label=any draws a class per clip, but interpolation runs between two ends: "
                         "set label= (and label2=) to label names")
    counts = torch.bincount(torch.randint(len(labels), (args.num_samples,), generator=generator), minlength=len(labels))
    return [(label, with_num_samples(args, int(count))) for label, count in zip(labels, counts) if count]


def with_num_samples(args, count: int):
    """A copy of generate.py's arguments (a GenerateArgs, or the command line's typed config) making `count` clips."""
    if dataclasses.is_dataclass(args):
        return dataclasses.replace(args, num_samples=count)
    copy = args.copy()
    copy.num_samples = count
    return copy


def label_ids(model: AudioDiffusionModule, label: str | None, batch: int = 1) -> torch.Tensor | None:
    """`label`'s class id repeated for `batch` items (None: unconditional)."""
    return None if label is None else model.label_ids([label]).repeat(batch)


def conditioned(model: AudioDiffusionModule, label: str | None, cfg_scale: float | None):
    """The denoiser for one item of `label` (None: unconditional)."""
    return model.conditioned(label_ids(model, label), cfg_scale)


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


def run_sample(args, model, generator, label: str | None) -> Outputs:
    """Batches of `batch_size`; noise comes from one CPU generator, so the audio depends on
    the seed only (not on batch size or device)."""
    clips: Clips = []
    images: Images = []
    for first in tqdm(range(0, args.num_samples, args.batch_size), desc="sampling", unit="batch"):
        noise = model.noise(min(args.batch_size, args.num_samples - first), generator, args.length)
        ids = label_ids(model, label, noise.shape[0])
        tensors = model.sample_tensors(noise, args.steps, args.sampler, args.eta, ids, args.cfg_scale)
        clips += list(model.decode_audio(tensors).cpu())
        images += [model.representation.image(x) for x in tensors]
    return clips, images


def run_variation(args, model, generator, label: str | None) -> Outputs:
    audio = load_input(args.init_audio, model, length=model.representation.length)
    sampler, denoiser = mode_sampler(args, model), conditioned(model, label, args.cfg_scale)
    return audio_only([modes.variation(model, audio, args.strength, args.steps, generator, sampler, denoiser)
                       for _ in range(args.num_samples)])


def run_inpaint(args, model, generator, label: str | None) -> Outputs:
    audio = load_input(args.init_audio, model, length=model.representation.length)
    keep = keep_mask(args, model, audio.shape[-1])
    sampler, denoiser = mode_sampler(args, model), conditioned(model, label, args.cfg_scale)
    return audio_only([modes.inpaint(model, audio, keep, args.steps, generator, args.resample, sampler, denoiser)
                       for _ in range(args.num_samples)])


def run_continue(args, model, generator, label: str | None) -> Outputs:
    if args.init_audio:
        audio = load_input(args.init_audio, model)
    else:
        audio = model.generate(1, steps=args.steps, generator=generator, labels=label_ids(model, label),
                               cfg_scale=args.cfg_scale)[0].cpu()
    overlap, fade = seconds(args.overlap, model), seconds(args.crossfade, model)
    sampler, denoiser = mode_sampler(args, model), conditioned(model, label, args.cfg_scale)
    return audio_only([modes.continuation(model, audio, args.segments, overlap, fade, args.steps, generator,
                                          args.resample, sampler, denoiser) for _ in range(args.num_samples)])


def run_interpolate(args, model, generator, label: str | None) -> Outputs:
    """From init_audio to init_audio2; with labels, from `label` to `label2` (default: the same)."""
    length = model.representation.length
    first = load_input(args.init_audio, model, length=length)
    second = load_input(args.init_audio2, model, "init_audio2", length=length)
    mode_sampler(args, model)  # only checks: interpolation is DDIM inversion + DDIM
    ends = None
    if label is not None:
        second_label = label if args.label2 in NO_LABEL else str(args.label2)
        ends = tuple(model.label_ids([label, second_label]).tolist())
    return audio_only(modes.interpolate(model, first, second, args.num_samples, args.steps, ends, args.cfg_scale))


MODES: dict[str, Callable[..., Outputs]] = {
    "sample": run_sample,
    "variation": run_variation,
    "inpaint": run_inpaint,
    "continue": run_continue,
    "interpolate": run_interpolate,
}


def run_mode(args, model: AudioDiffusionModule, generator: torch.Generator) -> tuple[Clips, Images, list]:
    """The clips and images of `args.mode`, and the label each clip was made under (None: none)."""
    if args.mode not in MODES:
        raise ValueError(f"mode={args.mode} is not one of {', '.join(MODES)}")
    if args.label2 not in NO_LABEL and args.mode != "interpolate":
        raise ValueError(f"label2 is for mode=interpolate, not mode={args.mode}")
    clips: Clips = []
    images: Images = []
    labels: list[str | None] = []
    for label, run_args in label_runs(args, model, generator):
        made, pictures = MODES[args.mode](run_args, model, generator, label)
        if args.loop:  # the loop regenerates a seam: the clips no longer match the images they came from
            made, pictures = audio_only([_loop(run_args, model, clip, generator, label) for clip in made])
        clips, images, labels = clips + made, images + pictures, labels + [label] * len(made)
    return clips, images, labels


def _loop(args, model: AudioDiffusionModule, clip: torch.Tensor, generator: torch.Generator,
          label: str | None) -> torch.Tensor:
    seam = seconds(args.loop_seam, model)
    sampler = model.make_sampler(args.sampler or "ddim", args.eta, MODE_SAMPLERS["inpaint"], "loop=true")
    return modes.make_loop(model, clip, seam, args.steps, generator, args.resample, sampler,
                           conditioned(model, label, args.cfg_scale))
