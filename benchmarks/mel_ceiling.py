"""What a mel representation loses of each drum class on its own round trip (mel image, then
Griffin-Lim), for several STFT window sizes of an experiment's mel settings.

    python benchmarks/mel_ceiling.py exp=mel_diffusion_demo [n_ffts=[1024,512]] [kit_seeds=[4242,99]]
        [per_kind=16] [seed=0]

Each row round-trips held-out kits (the demo's synthesiser at `kit_seeds`, `per_kind` hits of each
class) through the experiment's mel settings with `n_fft` changed, and scores them like a model's
samples (benchmarks/conditional_quality.py): per class, the Fréchet ratio of the round-tripped
hits to that class's floor against the reference kit (seed 777), one value per kit seed; overall,
the ceiling column of conditional_quality.py (the reference's own round trip on the floor scale).
A model in that representation cannot score below its row, class by class. Works for the mel
family and for the latent family's mel (`model.representation.mel`), without its VAE."""

from __future__ import annotations

import sys
import tempfile

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict

from common import experiment_config, markdown_table
from src.data.synth import DRUM_KINDS, reference_kit
from src.metrics.audio_sets import kit_hits_per_kind
from src.metrics.by_label import label_report
from src.metrics.scale import representation_ceiling
from src.representations.mel import MelRepresentation
from src.utils.cli import parse_cli, run_cli


def mel_settings(exp: str) -> DictConfig:
    """The experiment's mel representation config: the mel family's own, or the latent family's mel."""
    with tempfile.TemporaryDirectory() as folder:
        cfg = experiment_config([f"exp={exp}"], folder)
    rep = cfg.model.representation
    if "mel" in rep:
        rep = rep.mel
    if rep.get("_target_") != f"{MelRepresentation.__module__}.{MelRepresentation.__name__}":
        raise ValueError(f"exp={exp} has no mel representation (model.representation is {rep.get('_target_')})")
    return rep


def round_trip(rep: MelRepresentation):
    return lambda audio: rep.decode(rep.encode(audio)).float().clamp(-1, 1)


def class_ceilings(rep: MelRepresentation, reference: torch.Tensor, labels: list[str], kit_seed: int,
                   per_kind: int, seed: int) -> dict[str, float]:
    """{class: Fréchet ratio to its floor} of a held-out kit's round trip, as a model's samples are scored."""
    kit, kinds = reference_kit(per_kind, rep.sample_rate, rep.channels, rep.length, seed=kit_seed)
    report = label_report(round_trip(rep)(kit), kinds, reference, labels, rep.sample_rate, seed=seed)
    return {label: part["scale"]["frechet"]["ratio"] for label, part in report["per_label"].items()}


def row(settings: DictConfig, n_fft: int, args: DictConfig) -> list[str]:
    with open_dict(settings):
        settings.n_fft = n_fft
    rep = instantiate(settings)
    reference, labels = reference_kit(kit_hits_per_kind(3 * args.per_kind), rep.sample_rate, rep.channels, rep.length)
    overall = representation_ceiling(reference, labels, rep.sample_rate, round_trip(rep), seed=args.seed)
    per_seed = [class_ceilings(rep, reference, labels, kit_seed, args.per_kind, args.seed) for kit_seed in args.kit_seeds]
    cells = [" / ".join(f"{ceilings[label]:.2f}" for ceilings in per_seed) for label in sorted(DRUM_KINDS)]
    return [str(n_fft), f"{1000 * n_fft / rep.sample_rate:.0f}", f"{overall['frechet'].ratio:.2f}", *cells]


def main(argv: list[str]) -> None:
    args = parse_cli({"exp": "???", "n_ffts": [], "kit_seeds": [4242, 99], "per_kind": 16, "seed": 0}, argv)
    settings = mel_settings(args.exp)
    n_ffts = [int(n) for n in args.n_ffts] or [int(settings.n_fft)]
    rows = [row(settings, n_fft, args) for n_fft in n_ffts]
    sys.stdout.write(f"exp={args.exp}: {settings.y_res} mels, hop {settings.hop_length}, {settings.n_iter} Griffin-Lim "
                     f"iterations; per class, one value per kit seed {list(args.kit_seeds)}\n")
    header = ["n_fft", "window (ms)", "ceiling Fréchet / floor", *(f"{c}: class Fréchet / class floor" for c in sorted(DRUM_KINDS))]
    sys.stdout.write(markdown_table(header, rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
