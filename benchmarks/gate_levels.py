"""The level a gated waveform model's gate sets near t = 1, through the null label and through
each hit's own label, beside the clean level it should follow.

    python benchmarks/gate_levels.py ckpt=<run>/checkpoints/last.ckpt [per_label=16]
        [times=[0.5,0.9,0.95,0.97,0.98,0.99,0.995]] [frames=64] [seed=0]

Held-out kit hits (synthesiser seed 4242) are taken to each time t with one seeded noise; the
network's log-power channels (src/processes/gate.py) are averaged per class over the first
`frames` frames, where the hit is, on the low path (the representation's low-path
channels) and on the MDCT bands. The clean column is the level loss's target, the local log
power of the clean hit. Where the null label cannot yet tell the class, the squared-log level
loss makes it set the mean log of the classes' levels; the Wiener skip needs their mean power."""

from __future__ import annotations

import sys

import torch

from common import markdown_table
from one_step_classes import HELD_OUT_SEED
from scoring import noised
from src.data.synth import reference_kit
from src.generation.checkpoint import load_model
from src.networks.conditioning import WithLabels
from src.processes.gate import local_log_power, split_gate
from src.utils.cli import parse_cli, run_cli


def class_means(levels: torch.Tensor, names: list[str], low: int, frames: int) -> dict[str, tuple[float, float]]:
    """Per class, the mean log level over the first `frames` frames: (low path, MDCT bands)."""
    means = {}
    for name in sorted(set(names)):
        rows = levels[torch.tensor([n == name for n in names])][..., :frames]
        means[name] = (rows[:, :low].mean().item(), rows[:, low:].mean().item())
    return means


@torch.no_grad()
def gate_levels(model, x_t: torch.Tensor, times: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """The gate's log power for x_t at `times` under `labels` (None: the null label)."""
    return split_gate(WithLabels(model.network, labels)(x_t, model.process.network_time(times)), x_t)[1]


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "per_label": 16, "times": [0.5, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995],
                      "frames": 64, "seed": 0}, argv)
    model, config = load_model(args.ckpt)
    if not (model.labels and getattr(model.process, "gate", False)):
        raise ValueError(f"{args.ckpt} is not a class-conditional model with a gate (model.labels, process.gate)")
    rep = model.representation
    clips, names = reference_kit(args.per_label, rep.sample_rate, rep.channels, rep.length, seed=HELD_OUT_SEED)
    x0 = rep.encode(clips.to(model.device))
    low = rep.low_channels if rep.low is not None else 0
    clean = class_means(local_log_power(x0), names, low, args.frames)
    ids = model.label_ids(names).to(model.device)
    rows = []
    for t in args.times:
        x_t, times = noised(model, x0, float(t), args.seed)
        times = times.to(model.device)
        null = class_means(gate_levels(model, x_t, times, None), names, low, args.frames)
        own = class_means(gate_levels(model, x_t, times, ids), names, low, args.frames)
        for name in sorted(clean):
            rows.append([f"{float(t):g}", name] + [f"{means[name][part]:.2f}" for part in (0, 1)
                                                    for means in (null, own, clean)])
    sys.stdout.write(f"{config.get('task_name')}: {len(clips)} held-out hits, mean log power (nats) over the "
                     f"first {args.frames} frames\n")
    header = ["t", "class", "low path: null label", "own label", "clean", "bands: null label", "own label", "clean"]
    sys.stdout.write(markdown_table(header, rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
