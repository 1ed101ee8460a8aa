"""Why a waveform demo hisses: how much a noise floor costs on the quality scale, and how far a
trained network's denoising is from doing nothing.

    python benchmarks/waveform_floor.py [ckpt=<waveform run>/checkpoints/last.ckpt] [sample_rate=16000] [length=8192]

First, held-out kit clips (synthesiser seed 4242) with white noise added at a level relative to
each clip's peak, scored on the floor scale against the reference kit (seed 777): the level a
generated floor must stay under. Then, with `ckpt`, the network's clean-clip estimate x_0 from
kit clips noised to model time t: its error over each class's clips, in decibels against sigma / alpha
(0 dB is what x_t / alpha, the noisy clip taken as clean, scores; a denoiser gets below it by
removing the noise where the clip is quiet: in the bands and the stretches it leaves empty), and
the same error over each clip's second half, where every kit hit has decayed, against the clip's
peak: the hiss a sample keeps after its hit when sampling ends at that t."""

from __future__ import annotations

import math
import sys

import torch

from common import markdown_table
from src.data.synth import DRUM_KINDS, reference_kit
from src.generation.checkpoint import load_model
from src.metrics.audio_sets import kit_hits_per_kind
from src.metrics.scale import score_against_floor
from src.utils.cli import parse_cli, run_cli

LEVELS_DB = (-80, -70, -60, -50, -40, -30)
TIMES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.4)


def floor_rows(sample_rate: int, length: int) -> list[list[str]]:
    reference, labels = reference_kit(kit_hits_per_kind(48), sample_rate, 1, length)
    clips, _ = reference_kit(16, sample_rate, 1, length, seed=4242)
    generator = torch.Generator().manual_seed(0)
    rows = []
    for level in (None, *LEVELS_DB):
        noisy = clips
        if level is not None:
            peak = clips.abs().amax(dim=(1, 2), keepdim=True)
            noisy = clips + torch.randn(clips.shape, generator=generator) * peak * 10 ** (level / 20)
        score = score_against_floor(noisy, reference, labels, sample_rate, bootstrap=50).to_dict()
        rows.append(["none" if level is None else f"{level} dB", f"{score['frechet']['ratio']:.2f}",
                     f"{score['density']['value']:.2f}", f"{score['coverage']['value']:.2f}"])
    return rows


def db(value: torch.Tensor) -> str:
    return f"{20 * math.log10(max(float(value), 1e-12)):.1f}"


@torch.no_grad()
def denoise_rows(ckpt: str) -> tuple[list[list[str]], list[list[str]]]:
    """Per time t and class: the x_0 error against sigma / alpha, and the error over the clip's
    second half (where every kit hit has decayed) against the clip's peak."""
    model, _ = load_model(ckpt)
    model.eval()
    rep = model.representation
    audio, labels = reference_kit(8, rep.sample_rate, rep.channels, rep.length)
    x0 = rep.encode(audio)
    items = tuple(range(1, x0.dim()))
    peaks = x0.abs().amax(dim=items)

    def tail_level(x: torch.Tensor) -> torch.Tensor:
        """Per item: the RMS over the clip's second half, against the clean clip's peak."""
        return x[..., x.shape[-1] // 2:].pow(2).mean(dim=items).sqrt() / peaks

    denoiser = model.denoiser
    generator = torch.Generator().manual_seed(0)
    chosen = {kind: [i for i, label in enumerate(labels) if label == kind] for kind in DRUM_KINDS}
    kit_tails = tail_level(x0)
    whole, tails = [], [["kit itself", "-", *(db(kit_tails[c].mean()) for c in chosen.values())]]
    for t in TIMES:
        time = torch.tensor(t)
        alpha, sigma = denoiser.alpha_sigma(time, x0)
        x_t = alpha * x0 + sigma * torch.randn(x0.shape, generator=generator)
        error = denoiser.predict(x_t, time)[0] - x0
        tail_rms = tail_level(error)
        whole.append([f"{t:g}", f"{float(sigma):.3f}",
                      *(db(error[c].pow(2).mean().sqrt() * alpha / sigma) for c in chosen.values())])
        tails.append([f"{t:g}", f"{float(sigma):.3f}", *(db(tail_rms[c].mean()) for c in chosen.values())])
    return whole, tails


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": None, "sample_rate": 16000, "length": 8192}, argv)
    sys.stdout.write("Held-out kit clips plus white noise at a level below each clip's peak:\n")
    sys.stdout.write(markdown_table(["noise floor", "Fréchet / floor", "density", "coverage"],
                                    floor_rows(args.sample_rate, args.length)) + "\n")
    if args.ckpt:
        sys.stdout.write(f"\nx_0 error of {args.ckpt} on kit clips, dB against sigma / alpha (0 dB: x_t / alpha taken as clean):\n")
        whole, tails = denoise_rows(args.ckpt)
        header = ["t", "sigma", *(f"{kind} error" for kind in DRUM_KINDS)]
        sys.stdout.write(markdown_table(header, whole) + "\n")
        sys.stdout.write("\nThe same estimates over each clip's second half, dB against the clip's peak (the kit's own level there first):\n")
        sys.stdout.write(markdown_table(header, tails) + "\n")


if __name__ == "__main__":
    run_cli(main)
