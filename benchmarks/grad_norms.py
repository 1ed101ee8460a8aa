"""How often, and by how much, `trainer.gradient_clip_val` clips a waveform model's training steps.

    python benchmarks/grad_norms.py ckpt=<run>/checkpoints/last.ckpt [batches=60] [batch_size=8]
        [clips=[0.1,0.3,1.0]] [seed=0] [lead_channels=<n> lead_weight=<w> [lead_weight_above=<t>]]

Draws `batches` training batches from a fresh kit of the demo's synthesiser (seed 4242, the model's
rate and length, each clip with its label when the model has labels), computes the model's own
training loss on each (times and noise drawn as in training) and the norm of its gradient over
all weights. Reports the quantiles of the norms and losses, the share of batches each clip value
would scale down (and the median factor it scales them by), and the batches with the largest norms;
for a model with labels, the same quantiles over batches that hold one class each. The `lead_*`
options measure a v_cosine model's gradients under that loss weighting instead of its own
(src/processes/v_cosine.py): the same weights, another loss.
A loss whose few largest terms dominate shows as a long upper tail: a clip value near the median
then evens out the steps, where one far above it lets those few batches steer training."""

from __future__ import annotations

import sys

import torch

from common import markdown_table
from src.data.synth import reference_kit
from src.generation.checkpoint import load_model
from src.models.diffusion_module import WithLabels
from src.processes.v_cosine import VCosineProcess
from src.utils.cli import parse_cli, run_cli

KIT_SEED = 4242
QUANTILES = (0.1, 0.5, 0.9, 1.0)


def batch_norms(model, kit: torch.Tensor, labels: list[str], batches: int, batch_size: int, seed: int,
                only: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(gradient norm, loss) of each of `batches` random batches of `kit` (of label `only`'s clips, if
    given), at the model's weights. The norm is the one Lightning clips: the 2-norm over all weights."""
    pool = torch.tensor([i for i, name in enumerate(labels) if only is None or name == only])
    ids = torch.tensor([model.labels.index(name) for name in labels]) if model.labels else None
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the loss's own draws of times and noise
    norms, losses = [], []
    for _ in range(batches):
        pick = pool[torch.randint(0, len(pool), (batch_size,), generator=generator)]
        network = WithLabels(model.network, ids[pick]) if ids is not None else model.network
        model.zero_grad(set_to_none=True)
        loss = model.process.loss(network, model.representation.encode(kit[pick]))
        loss.backward()
        norms.append(torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None]).item())
        losses.append(loss.item())
    return torch.tensor(norms), torch.tensor(losses)


def set_lead_weight(process, channels: int | None, weight: float | None, above: float) -> None:
    """Give a v_cosine `process` the lead weighting (channels, weight, above), checked as config is."""
    if channels is None and weight is None:
        return
    if not isinstance(process, VCosineProcess):
        sys.exit(f"lead_weight needs a v_cosine model; this one is {type(process).__name__}")
    checked = VCosineProcess(lead_channels=channels or 0, lead_weight=1.0 if weight is None else weight,
                             lead_weight_above=above)
    process.lead_channels, process.lead_weight = checked.lead_channels, checked.lead_weight
    process.lead_weight_above = checked.lead_weight_above


def quantile_cells(values: torch.Tensor) -> list[str]:
    return [f"{v:.3f}" for v in values.quantile(torch.tensor(QUANTILES, dtype=values.dtype)).tolist()]


def clip_rows(norms: torch.Tensor, clips: list[float]) -> list[list[str]]:
    rows = []
    for clip in clips:
        over = norms[norms > clip]
        factor = f"{(over / clip).median().item():.1f}x" if len(over) else "-"
        rows.append([f"{clip:g}", f"{len(over) / len(norms):.2f}", factor])
    return rows


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": None, "batches": 60, "batch_size": 8, "clips": [0.1, 0.3, 1.0], "seed": 0,
                       "lead_channels": None, "lead_weight": None, "lead_weight_above": 0.0}, argv)
    if not args.ckpt:
        sys.exit("benchmarks/grad_norms.py needs ckpt=<run>/checkpoints/last.ckpt")
    model, _ = load_model(args.ckpt)
    model.train()
    set_lead_weight(model.process, args.lead_channels, args.lead_weight, args.lead_weight_above)
    rep = model.representation
    kit, labels = reference_kit(max(4, args.batch_size), rep.sample_rate, rep.channels, rep.length, seed=KIT_SEED)
    norms, losses = batch_norms(model, kit, labels, args.batches, args.batch_size, args.seed)
    sys.stdout.write(f"{args.batches} kit batches of {args.batch_size} at {args.ckpt}:\n")
    sys.stdout.write(markdown_table(["quantile", "gradient norm", "loss"],
                                    [[f"{p:g}", n, l] for p, n, l in
                                     zip(QUANTILES, quantile_cells(norms), quantile_cells(losses))]) + "\n")
    sys.stdout.write("\nClipping at each value:\n")
    sys.stdout.write(markdown_table(["gradient_clip_val", "share of batches clipped", "median scale-down"],
                                    clip_rows(norms, args.clips)) + "\n")
    top = norms.argsort(descending=True)[:5]
    sys.stdout.write("\nThe largest norms:\n")
    sys.stdout.write(markdown_table(["gradient norm", "loss"],
                                    [[f"{norms[i].item():.2f}", f"{losses[i].item():.3f}"] for i in top]) + "\n")
    if model.labels:
        rows = [[label, *quantile_cells(batch_norms(model, kit, labels, args.batches, args.batch_size, args.seed,
                                                    label)[0])] for label in model.labels]
        sys.stdout.write(f"\nGradient norms of batches that hold one class each ({args.batches} per class), by quantile:\n")
        sys.stdout.write(markdown_table(["class", *(f"{p:g}" for p in QUANTILES)], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
