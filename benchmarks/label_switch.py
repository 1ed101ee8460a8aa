"""Where sampling without a label decides a class: the null label's noise sampled with a class's
label above a switch time t and the null label below it, or the other way round.

    python benchmarks/label_switch.py ckpt=<run>/checkpoints/last.ckpt [label=kick|any]
        [times=[0.999,0.99,0.95,0.9]] [samples=48] [steps=50] [seed=0]

Each row samples `samples` clips from the noise `conditional_quality.py` gives the null label (same
seed), with the model's sampler and guidance scale 1, and puts each clip in the class of the
held-out kit it lies nearest to (the count `classes` of the floor scale). If the label's clips stay
in its class when the label holds only above t, the class is settled above t; if the null label
above t, then the label, still gives the label's class, nothing the null label did above t ruled it
out. The null label's missing class is started where neither holds.

`label=any` gives the clips the labels in turn (an equal share each), so the row "any above t, then
no label" at t = 0 is the labels' own quality and, as t rises, shows what the null label costs when
it only finishes clips whose class is already set."""

from __future__ import annotations

import sys

import torch

from common import markdown_table
from scoring import floor_scores, scale_cells
from src.generation.checkpoint import load_model
from src.networks.base import Network
from src.networks.conditioning import one_label
from src.samplers.base import Denoiser
from src.samplers.registry import sample
from src.utils.cli import parse_cli, run_cli


Label = int | torch.Tensor | None  # one class for every clip, a class id per clip, or None (the null label)


class SwitchedLabels:
    """`network` under `early` where the c_noise it is handed is above `switch` (a switch time in
    the network's c_noise: `switch_in_c_noise`), and under `late` at and below it. Every item of a
    batch shares one time, as samplers call it."""

    def __init__(self, network: Network, early: Label, late: Label, switch: float) -> None:
        self.network, self.early, self.late, self.switch = network, early, late, switch

    def __call__(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        label = self.early if float(c_noise.flatten()[0]) > self.switch else self.late
        ids = label.to(x.device) if isinstance(label, torch.Tensor) else one_label(label, x.shape[0], x.device)
        return self.network(x, c_noise, ids)


def chunk_of(label: Label, start: int, size: int) -> Label:
    return label[start: start + size] if isinstance(label, torch.Tensor) else label


def switch_in_c_noise(process, switch: float) -> float:
    """The switch time as the c_noise the network reads: a v_cosine process may hand it the log
    noise ratio instead of t (`log_snr_input`); other processes here hand it t."""
    if getattr(process, "log_snr_input", None) is None:
        return switch
    return float(process.network_time(torch.tensor(switch)))  # in the float32 the sampler hands it


@torch.no_grad()
def switched_clips(model, early: Label, late: Label, switch: float, samples: int, steps: int,
                   seed: int, batch: int = 16) -> torch.Tensor:
    """Audio of `samples` clips from the null label's seeded noise, sampled with the switch."""
    noise = model.noise(samples, torch.Generator().manual_seed(seed))
    sampler, at = model.make_sampler(None), switch_in_c_noise(model.process, switch)
    tensors = []
    for start in range(0, samples, batch):
        chunk = noise[start: start + batch].to(model.device)
        switched = SwitchedLabels(model.network, chunk_of(early, start, batch), chunk_of(late, start, batch), at)
        denoiser = Denoiser(model.process, switched, eps_scaling=model.eps_scaling)  # sampled as the model samples
        tensors.append(sample(denoiser, chunk, steps, sampler))
    return model.decode_audio(torch.cat(tensors))


def row(model, name: str, early: Label, late: Label, switch: float, args) -> list[str]:
    scores = floor_scores(model, switched_clips(model, early, late, switch, args.samples, args.steps, args.seed),
                          args.seed)
    classes = scale_cells(scores)[3]  # the floor scale's class counts, as conditional_quality.py writes them
    return [name, f"{switch:g}", classes, f"{scores['frechet']['ratio']:.2f}"]


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "label": "kick", "times": [0.999, 0.99, 0.95, 0.9], "samples": 48,
                      "steps": 50, "seed": 0}, argv)
    model, config = load_model(args.ckpt)
    if not model.labels:
        raise ValueError(f"{args.ckpt} is not a class-conditional model (no model.labels)")
    model.eval()
    label = str(args.label)
    if label == "any":  # the labels in turn, an equal share each
        index = torch.arange(args.samples) % len(model.labels)
    else:
        index = int(model.label_ids([label])[0])  # an unknown label is an error listing the known ones
    rows = []
    for switch in [float(t) for t in args.times]:
        rows.append(row(model, f"{label} above t, then no label", index, None, switch, args))
        rows.append(row(model, f"no label above t, then {label}", None, index, switch, args))
    sys.stdout.write(f"{config.get('task_name')}: {args.samples} clips per row from the null label's noise (seed "
                     f"{args.seed}), {args.steps} steps, guidance scale 1\n")
    sys.stdout.write(markdown_table(["sampling", "t", "classes", "Fréchet / floor"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
