"""How long a class-conditional model's clips ring against the held-out kit's, and whether a gated
model's level follows its input.

    python benchmarks/decays.py ckpt=<run>/checkpoints/last.ckpt [per_label=16] [steps=50] [seed=0] [t=0.05]

A clip's decay is the number of frames (1/64 s, the quality scale's onset-aligned log-mel) from its
loudest frame until its power, summed over bands, falls 30 dB under it; 32 frames is 0.5 s, the
window's end. The first table gives each label's decays as percentiles, for held-out kit hits
(seed 777) and for `per_label` clips sampled at guidance 1: the kit's hats are a quarter open
(0.15 to 0.3 s) and three quarters closed, so a model that draws every hat alike shows one number
where the kit shows two.

For a model with a gate (src/processes/gate.py), the second table noises held-out hits to time `t`
and compares the level in each hit's tail (the MDCT bands over the last two thirds of its frames,
in dB of the tensor's unit) with the gate's level there: their spreads across hits, and the slope
of the gate's level on the true one (1: the gate follows the hit; 0: it draws the class's average
envelope whatever the input)."""

from __future__ import annotations

import sys

import numpy as np
import torch

from common import markdown_table
from scoring import generate_clips, noised
from src.data.synth import reference_kit
from src.generation.checkpoint import load_model
from src.metrics.aligned import ALIGNED_FRAMES, ALIGNED_MELS, aligned_logmel
from src.networks.conditioning import WithLabels, one_label
from src.processes.gate import gate_power, split_gate
from src.utils.cli import parse_cli, run_cli

DECAY_DB = 30.0
PERCENTILES = (0, 10, 25, 50, 75, 90, 100)


def decays(audio: torch.Tensor, sample_rate: int) -> np.ndarray:
    """Frames from each clip's loudest frame until its power stays DECAY_DB under it."""
    frames = aligned_logmel(audio, sample_rate).view(-1, ALIGNED_MELS, ALIGNED_FRAMES)
    power = (10.0 ** (frames / 10.0)).sum(dim=1)
    return (10.0 * torch.log10(power / power[:, :1]) > -DECAY_DB).sum(dim=1).numpy()


def spread(values: np.ndarray) -> str:
    return " / ".join(str(int(v)) for v in np.percentile(values, PERCENTILES, method="nearest"))


def tail_levels(model, x0: torch.Tensor, label: int, t: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(true, gate) tail levels in dB per hit, at noise time t."""
    bands = slice(model.representation.low_channels, x0.shape[1])
    tail = slice(x0.shape[-1] // 3, x0.shape[-1])
    x_t, times = noised(model, x0, t, seed)
    network = WithLabels(model.network, one_label(label, len(x0)))
    _, log_power = split_gate(network(x_t, model.process.network_time(times)), x_t)
    gate = gate_power(log_power)[:, bands, tail].mean(dim=(1, 2))
    true = x0[:, bands, tail].square().mean(dim=(1, 2)).clamp_min(1e-12)
    return (10 * torch.log10(true)).numpy(), (10 * torch.log10(gate)).numpy()


def gate_row(model, label: str, x0: torch.Tensor, t: float, seed: int) -> list[str]:
    true, gate = tail_levels(model, x0, model.labels.index(label), t, seed)
    slope = np.polyfit(true, gate, 1)[0] if true.std() > 0 else float("nan")
    return [label, f"{true.mean():.1f} ± {true.std():.1f}", f"{gate.mean():.1f} ± {gate.std():.1f}", f"{slope:.2f}"]


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "per_label": 16, "steps": 50, "seed": 0, "t": 0.05}, argv)
    model, _ = load_model(args.ckpt)
    if not model.labels:
        raise ValueError(f"{args.ckpt} is not a class-conditional model (no model.labels)")
    rep = model.representation
    audio, kinds = reference_kit(2 * args.per_label, rep.sample_rate, rep.channels, rep.length)
    kinds = np.array(kinds)
    kit = decays(audio, rep.sample_rate)
    rows, gate_rows = [], []
    with torch.no_grad():
        for index, label in enumerate(model.labels):
            clips = generate_clips(model, args.per_label, args.steps, args.seed, None, label=index, cfg_scale=1.0)
            rows.append([label, spread(kit[kinds == label]), spread(decays(clips, rep.sample_rate))])
            if getattr(model.process, "gate", False):
                gate_rows.append(gate_row(model, label, rep.encode(audio[kinds == label]), float(args.t), args.seed))
    percentiles = "/".join(str(p) for p in PERCENTILES)
    sys.stdout.write(f"decay in frames of 1/64 s to {DECAY_DB:g} dB under the peak, percentiles {percentiles}: {args.ckpt}\n")
    sys.stdout.write(markdown_table(["label", "held-out kit", "generated (scale 1)"], rows) + "\n")
    if gate_rows:
        sys.stdout.write(f"\ntail level at t = {float(args.t):g}, dB, mean ± spread over held-out hits\n")
        sys.stdout.write(markdown_table(["label", "true", "gate", "slope of gate on true"], gate_rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
