"""A class-conditional demo model: unconditional quality, then per-class adherence and quality
against the guidance scale.

    python benchmarks/conditional_quality.py ckpt=<run>/checkpoints/last.ckpt [per_label=16] [steps=50]
        [scales=[0,1,2,3,5,7]] [seed=0] [sampler=<name>] [eta=<noise>] [pictures=<folder>] [picture_scale=<scale>]
        [min_noise_ratio=<r>] [shift=<s>] [eps_scaling=<c>]

Every label is sampled from the same `per_label` noises at each scale. Clips are scored against a
held-out kit from the demo's synthesiser (seed 777): the whole set on the floor scale (Fréchet ratio,
density, coverage, the class each clip falls nearest), and per label the share of clips a k-NN
classifier on the kit puts in the requested class and that class's own Fréchet ratio to its floor
(src/metrics/by_label.py). The classifier's accuracy on held-out kit clips caps what adherence can
show. The unconditional row samples the null label, as `generate.py` does without a label. With
`pictures`, kit_vs_generated.png puts two kit clips per class above two generated clips of the same
class at `picture_scale` (default: the model's own scale), and kit_vs_null_label.png the kit above the
first six clips of the null label. `min_noise_ratio` scores a v_cosine model
with its sampling times stopped at sigma / alpha = r before the last step (src/processes/v_cosine.py),
whatever the model was trained with: the same weights on another grid; `shift` likewise scores a
rectified-flow model with its sampling times shifted towards noise (src/processes/rectified_flow.py), and
`eps_scaling` samples with that exposure-bias correction instead of the model's (src/samplers/base.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from common import markdown_table
from scoring import SCALE_HEADER, floor_scores, generate_clips, save_montage, scale_cells
from src.checkpoints.files import read_checkpoint
from src.data.synth import DRUM_KINDS, reference_kit
from src.generation.checkpoint import load_model
from src.metrics.audio_sets import kit_hits_per_kind
from src.metrics.by_label import label_report
from src.samplers.base import check_eps_scaling
from src.utils.cli import parse_cli, run_cli


def by_label(model, steps: int, per_label: int, seed: int, sampler: str | None, scale: float) -> tuple[torch.Tensor, list]:
    """`per_label` clips of every label at guidance `scale`, each label from the same noise."""
    clips, requested = [], []
    for index, label in enumerate(model.labels):
        clips.append(generate_clips(model, per_label, steps, seed, sampler, label=index, cfg_scale=scale))
        requested += [label] * per_label
    return torch.cat(clips), requested


def scale_row(model, audio: torch.Tensor, requested: list[str], seed: int) -> tuple[list[str], dict]:
    rep = model.representation
    reference, labels = reference_kit(kit_hits_per_kind(len(audio)), rep.sample_rate, rep.channels, rep.length)
    report = label_report(audio, requested, reference, labels, rep.sample_rate, seed=seed)
    per = report["per_label"]
    adherence = ", ".join(f"{label} {per[label]['in_class']:.2f}" for label in per)
    class_fd = ", ".join(f"{label} {per[label]['scale']['frechet']['ratio']:.2f}" for label in per if per[label]["scale"])
    return [adherence, class_fd], report


def set_min_noise_ratio(process, ratio: float, ckpt: str) -> None:
    """The sampler's last noisy time, on a loaded v_cosine process."""
    if not hasattr(process, "min_noise_ratio"):
        raise ValueError(f"min_noise_ratio needs a v_cosine model; {ckpt} samples with {process.describe()}")
    process.min_noise_ratio = ratio  # the process checks the value


def set_shift(process, shift: float, ckpt: str) -> None:
    """The sampling grid's shift towards noise, on a loaded rectified-flow process."""
    if not hasattr(process, "shift"):
        raise ValueError(f"shift needs a rectified_flow model; {ckpt} samples with {process.describe()}")
    process.shift = shift  # the process checks the value


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "per_label": 16, "steps": 50, "scales": [0, 1, 2, 3, 5, 7], "seed": 0,
                      "sampler": None, "eta": None, "pictures": None, "picture_scale": None,
                      "min_noise_ratio": None, "shift": None, "eps_scaling": None}, argv)
    model, config = load_model(args.ckpt)
    if args.min_noise_ratio is not None:
        set_min_noise_ratio(model.process, float(args.min_noise_ratio), args.ckpt)
    if args.shift is not None:
        set_shift(model.process, float(args.shift), args.ckpt)
    if args.eps_scaling is not None:
        model.eps_scaling = check_eps_scaling(args.eps_scaling)
    sampler = args.sampler
    if args.eta is not None:  # the ancestral sampler's noise: the model's default sampler then carries it
        model.sampler, model.eta, sampler = sampler or model.sampler, float(args.eta), None
    if not model.labels:
        raise ValueError(f"{args.ckpt} is not a class-conditional model (no model.labels)")
    total = args.per_label * len(model.labels)
    unconditional = generate_clips(model, total, args.steps, args.seed, sampler)
    rows = [["unconditional (null label)", *scale_cells(floor_scores(model, unconditional, args.seed)), "-", "-"]]
    if args.pictures:
        save_montage(model, unconditional, Path(args.pictures) / "kit_vs_null_label.png")
    accuracy = None
    for scale in args.scales:
        audio, requested = by_label(model, args.steps, args.per_label, args.seed, sampler, float(scale))
        cells, report = scale_row(model, audio, requested, args.seed)
        accuracy = report["classifier_accuracy"]
        rows.append([f"cfg_scale {scale:g}", *scale_cells(floor_scores(model, audio, args.seed)), *cells])
        if args.pictures and float(scale) == float(model.cfg_scale if args.picture_scale is None else args.picture_scale):
            order = [model.labels.index(kind) * args.per_label + i for kind in DRUM_KINDS for i in range(2)]
            save_montage(model, audio[order], Path(args.pictures) / "kit_vs_generated.png")
    used = model.make_sampler(sampler)
    eta = f" (eta {used.eta:g})" if hasattr(used, "eta") else ""
    step = read_checkpoint(args.ckpt).get("global_step")
    # with scales=[] only the null label is sampled, and no classifier is fitted
    fitted = "" if accuracy is None else f"; k-NN classifier accuracy on held-out kit clips {accuracy:.2f}"
    sys.stdout.write(f"{config.get('task_name')}, step {step}: {total} clips per row ({args.per_label} per label), "
                     f"{model.process.describe()}, sampler {used.name}{eta}, eps_scaling {model.eps_scaling:g}, "
                     f"{args.steps} steps, seed {args.seed}"
                     f"{fitted}\n")
    sys.stdout.write(markdown_table(["sampling", *SCALE_HEADER, "in requested class", "class Fréchet / class floor"],
                                    rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
