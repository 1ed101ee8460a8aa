"""What a mel representation loses of each drum class on its own round trip (mel image, then
Griffin-Lim), for several STFT window sizes of an experiment's mel settings, or through VAEs.

    python benchmarks/mel_ceiling.py exp=mel_diffusion_demo [n_ffts=[1024,512]] [kit_seeds=[4242,99]]
        [per_kind=16] [seed=0]
    python benchmarks/mel_ceiling.py exp=latent_diffusion_demo vaes=[<vae_demo run>/checkpoints/last.ckpt,...]
        [overrides=[<hydra override>,...]]

Each row round-trips held-out kits (the demo's synthesiser at `kit_seeds`, `per_kind` hits of each
class) through the experiment's mel settings with `n_fft` changed, and scores them like a model's
samples (benchmarks/conditional_quality.py): per class, the Fréchet ratio of the round-tripped
hits to that class's floor against the reference kit (seed 777), one value per kit seed; overall,
the ceiling column of conditional_quality.py (the reference's own round trip on the floor scale).
A model in that representation cannot score below its row, class by class. Works for the mel
family and for the latent family's mel (`model.representation.mel`); with `vaes`, each row is one
VAE checkpoint (of `exp=vae_demo` or `exp=vae`) on the experiment's mel settings, its encoder's
posterior mean decoded again, as the latent family's samples are, with each class's latent level
beside it: the RMS of its hits' latents at the latent family's scaling (1 / std over the first kit
seed's hits), the size at which a latent diffusion model sees that class against its unit noise.
`overrides` go to the experiment's config (for instance another audio.sample_rate)."""

from __future__ import annotations

import sys
import tempfile

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, open_dict

from common import experiment_config, markdown_table
from scoring import round_trip
from src.data.synth import DRUM_KINDS, reference_kit
from src.metrics.audio_sets import kit_hits_per_kind
from src.metrics.by_label import label_report
from src.metrics.scale import representation_ceiling
from src.representations.base import Representation
from src.representations.latent import LatentRepresentation
from src.representations.mel import MelRepresentation
from src.utils.cli import parse_cli, run_cli


def mel_settings(exp: str, overrides: list[str]) -> DictConfig:
    """The experiment's mel representation config: the mel family's own, or the latent family's mel."""
    with tempfile.TemporaryDirectory() as folder:
        cfg = experiment_config([f"exp={exp}", *overrides], folder)
    rep = cfg.model.representation
    if "mel" in rep:
        rep = rep.mel
    if rep.get("_target_") != f"{MelRepresentation.__module__}.{MelRepresentation.__name__}":
        raise ValueError(f"exp={exp} has no mel representation (model.representation is {rep.get('_target_')})")
    return rep


def class_ceilings(rep: Representation, reference: torch.Tensor, labels: list[str], kit_seed: int,
                   per_kind: int, seed: int) -> dict[str, float]:
    """{class: Fréchet ratio to its floor} of a held-out kit's round trip, as a model's samples are scored."""
    kit, kinds = reference_kit(per_kind, rep.sample_rate, rep.channels, rep.length, seed=kit_seed)
    report = label_report(round_trip(rep)(kit), kinds, reference, labels, rep.sample_rate, seed=seed)
    return {label: part["scale"]["frechet"]["ratio"] for label, part in report["per_label"].items()}


def ceiling_cells(rep: Representation, args: DictConfig) -> list[str]:
    """The overall ceiling and, per class, one class ceiling per kit seed, as table cells."""
    reference, labels = reference_kit(kit_hits_per_kind(3 * args.per_kind), rep.sample_rate, rep.channels, rep.length)
    overall = representation_ceiling(reference, labels, rep.sample_rate, round_trip(rep), seed=args.seed)
    per_seed = [class_ceilings(rep, reference, labels, kit_seed, args.per_kind, args.seed) for kit_seed in args.kit_seeds]
    cells = [" / ".join(f"{ceilings[label]:.2f}" for ceilings in per_seed) for label in sorted(DRUM_KINDS)]
    return [f"{overall['frechet'].ratio:.2f}", *cells]


def with_n_fft(settings: DictConfig, n_fft: int) -> MelRepresentation:
    # set in place: the settings keep their place in the experiment, so ${audio.sample_rate} resolves
    with open_dict(settings):
        settings.n_fft = n_fft
    return instantiate(settings)


def through_vae(settings: DictConfig, vae: str) -> LatentRepresentation:
    """The latent family's round trip on these mel settings; the scale cancels out of it."""
    return LatentRepresentation(instantiate(settings), vae, scaling_factor=1.0).eval()


def latent_levels(rep: LatentRepresentation, args: DictConfig) -> str:
    """Each class's latent RMS at the latent family's 1 / std scaling, on the first kit seed's hits."""
    kit, kinds = reference_kit(args.per_kind, rep.sample_rate, rep.channels, rep.length, seed=args.kit_seeds[0])
    z = rep.latents(kit)
    z = z / z.std()
    levels = [z[[i for i, k in enumerate(kinds) if k == kind]].square().mean().sqrt() for kind in sorted(DRUM_KINDS)]
    return " / ".join(f"{float(level):.2f}" for level in levels)


def main(argv: list[str]) -> None:
    args = parse_cli({"exp": "???", "overrides": [], "n_ffts": [], "vaes": [], "kit_seeds": [4242, 99],
                      "per_kind": 16, "seed": 0}, argv)
    settings = mel_settings(args.exp, [str(o) for o in args.overrides])
    classes = [f"{kind}: class Fréchet / class floor" for kind in sorted(DRUM_KINDS)]
    title = (f"exp={args.exp}: {settings.y_res} mels, n_fft {settings.n_fft}, hop {settings.hop_length}, "
             f"{settings.n_iter} Griffin-Lim iterations; per class, one value per kit seed {list(args.kit_seeds)}")
    if args.vaes:
        if args.n_ffts:
            raise ValueError("give n_ffts (mel settings) or vaes (each VAE on the experiment's mel settings), not both")
        levels = f"latent RMS at 1 / std: {' / '.join(sorted(DRUM_KINDS))}"
        header = ["VAE", "ceiling Fréchet / floor", *classes, levels]
        rows = []
        for vae in args.vaes:
            rep = through_vae(settings, str(vae))
            rows.append([str(vae), *ceiling_cells(rep, args), latent_levels(rep, args)])
    else:
        header = ["n_fft", "window (ms)", "ceiling Fréchet / floor", *classes]
        rows = []
        for n_fft in [int(n) for n in args.n_ffts] or [int(settings.n_fft)]:
            rep = with_n_fft(settings, n_fft)
            rows.append([str(n_fft), f"{1000 * n_fft / rep.sample_rate:.0f}", *ceiling_cells(rep, args)])
    sys.stdout.write(f"{title}\n{markdown_table(header, rows)}\n")


if __name__ == "__main__":
    run_cli(main)
