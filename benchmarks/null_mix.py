"""What the null label predicts where sampling starts, as a mix of what the labels predict.

    python benchmarks/null_mix.py ckpt=<run>/checkpoints/last.ckpt [steps=50] [levels=4] [samples=32] [seed=0]

At the first noise levels of a sampling schedule the input is almost all noise, so it says almost
nothing of the class, and a model trained with classifier-free guidance dropout should predict
through its null label the mix of what its labels predict: E[x0 | x_t] = sum_c p(c | x_t) E[x0 | x_t, c],
with p(c | x_t) near each class's share of the training data (a third each on the kit). For each of
the first `levels` levels of the model's `steps`-step schedule, the clean predictions from
`samples` seeded noises (the sampler's starting point, as `generate.py` draws it) through the null
label are fitted by least squares as a weighted sum of the same noises' predictions through each
label. The weights say which classes the null label leans to there (where the labels' predictions
are alike, as mel images' silence makes them, the fit can trade one label for the others).
`unexplained` is the share of the null label's prediction (in power) that no mix of the labels'
predictions gives; `power` is its power against that of the labels' predictions averaged with equal
weights. A class can still be chosen at lower levels: this reads where sampling starts, not the
classes it ends in (benchmarks/label_switch.py counts those)."""

from __future__ import annotations

import sys

import torch

from common import markdown_table
from src.checkpoints.files import read_checkpoint
from src.generation.checkpoint import load_model
from src.networks.conditioning import WithLabels, one_label
from src.samplers.base import Denoiser
from src.utils.cli import parse_cli, run_cli


@torch.no_grad()
def clean_predictions(model, x: torch.Tensor, level: torch.Tensor) -> dict[str | None, torch.Tensor]:
    """x0 predicted from x at `level` through the null label (key None) and through every label."""
    predictions = {}
    for index, name in [(None, None), *enumerate(model.labels)]:
        network = WithLabels(model.network, one_label(index, x.shape[0], x.device))
        predictions[name], _ = Denoiser(model.process, network).predict(x, level)
    return predictions


def null_as_mix(predictions: dict[str | None, torch.Tensor], labels: list[str]) -> tuple[torch.Tensor, float, float]:
    """(least-squares weight of each label's prediction in the null label's, the share of the null
    label's power the fit leaves, the null label's power over the equal-weight mix's)."""
    basis = torch.stack([predictions[name].flatten().double() for name in labels], dim=1)
    null = predictions[None].flatten().double()
    weights = torch.linalg.lstsq(basis, null[:, None]).solution[:, 0]
    unexplained = float((null - basis @ weights).square().sum() / null.square().sum())
    power = float(null.square().mean() / basis.mean(dim=1).square().mean())
    return weights, unexplained, power


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "steps": 50, "levels": 4, "samples": 32, "seed": 0}, argv)
    model, config = load_model(args.ckpt)
    if not model.labels:
        raise ValueError(f"{args.ckpt} is not a class-conditional model (no model.labels)")
    if not 1 <= int(args.levels) <= int(args.steps):
        raise ValueError(f"levels must be between 1 and steps ({args.steps}), got {args.levels}")
    model.eval()
    noise = model.noise(int(args.samples), torch.Generator().manual_seed(int(args.seed)))
    rows = []
    for level in model.process.schedule(int(args.steps))[:int(args.levels)]:
        x = model.process.prior(noise, level)  # pure noise at that level: the input says little of the class
        weights, unexplained, power = null_as_mix(clean_predictions(model, x, level), list(model.labels))
        rows.append([f"{float(level):.4g}", *(f"{float(w):.2f}" for w in weights), f"{unexplained:.2f}", f"{power:.2f}"])
    step = read_checkpoint(args.ckpt).get("global_step")
    sys.stdout.write(f"{config.get('task_name')}, step {step}: the null label's clean prediction as a "
                     f"mix of the labels', {args.samples} noises (seed {args.seed}), first levels of {args.steps} "
                     f"steps of {model.process.describe()}\n")
    sys.stdout.write(markdown_table(["level", *(f"weight of {name}" for name in model.labels), "unexplained",
                                     "power against the equal mix"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
