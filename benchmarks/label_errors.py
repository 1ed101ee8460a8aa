"""How well a class-conditional model denoises held-out hits with their own label and with the null label.

    python benchmarks/label_errors.py ckpt=<run>/checkpoints/last.ckpt [times=[0.3,0.5,0.7,0.9,0.95]] [seed=0]

Held-out hits from the demo's synthesiser (seed 777, 16 per class) are noised to each model time t
with one shared noise and denoised by the process (any process, any network), once under each
hit's label and once under the null label. Reports the mean squared error of the denoised estimate
x_0 per class, labelled / null, and their ratio. Where the null label's error grows much faster
than the labelled one as t rises, the unconditional model cannot tell the classes apart at that
noise, and sampling without a label leans to whatever the kit's mean sounds like."""

from __future__ import annotations

import sys

import torch

from common import markdown_table
from scoring import noised
from src.data.synth import reference_kit
from src.generation.checkpoint import load_model
from src.networks.conditioning import WithLabels
from src.utils.cli import parse_cli, run_cli


def x0_errors(model, x0: torch.Tensor, labels: torch.Tensor, t: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-hit squared error of the denoised estimate with `labels` and with the null label."""
    x_t, times = noised(model, x0, t, seed)
    errors = []
    for bound in (labels, None):
        estimate, _ = model.process.denoise(WithLabels(model.network, bound), x_t, times)
        errors.append((estimate - x0).pow(2).flatten(1).mean(1))
    return errors[0], errors[1]


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "times": [0.3, 0.5, 0.7, 0.9, 0.95], "seed": 0}, argv)
    model, _ = load_model(args.ckpt)
    if not model.labels:
        raise ValueError(f"{args.ckpt} is not a class-conditional model (no model.labels)")
    rep = model.representation
    audio, kinds = reference_kit(16, rep.sample_rate, rep.channels, rep.length)
    with torch.no_grad():
        x0 = rep.encode(audio.to(model.device))
        labels = torch.tensor([model.labels.index(kind) for kind in kinds], device=model.device)
        rows = []
        for t in args.times:
            labelled, null = x0_errors(model, x0, labels, float(t), args.seed)
            cells = []
            for name in model.labels:
                mask = torch.tensor([kind == name for kind in kinds], device=model.device)
                own, unconditional = labelled[mask].mean().item(), null[mask].mean().item()
                cells.append(f"{own:.4f} / {unconditional:.4f} ({unconditional / own:.2f}x)")
            rows.append([f"{float(t):g}", *cells])
    sys.stdout.write(f"x_0 error, own label / null label (ratio), {model.process.describe()}: {args.ckpt}\n")
    sys.stdout.write(markdown_table(["t", *model.labels], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
