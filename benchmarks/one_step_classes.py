"""Where a class-conditional model decides the class: the class its one-step prediction of noised
held-out hits lands in, at each noise level, through the null label and through each hit's own label.

    python benchmarks/one_step_classes.py ckpt=<run>/checkpoints/last.ckpt [per_label=8]
        [times=[0.3,0.5,0.7,0.9,0.95,0.97,0.99]] [seed=0]

Held-out kit hits (synthesiser seed 4242, apart from the classifier's reference kit, seed 777) are
taken to each time t of the model's process with one seeded noise, denoised in one network
evaluation, decoded, and put in a class by the k-NN classifier of src/metrics/by_label.py (fitted
on the reference kit, in the onset-aligned log-mel). Each row gives, per class, the share of its
hits whose prediction stays in that class. Up to the time where the null label's share falls from
1, the noisy input alone shows the class; above it, sampling without a label has to choose the
class from the noise. Training times are drawn uniformly, so a
choice made only near t = 1 is one the null label (a tenth of the batches) has seen little of."""

from __future__ import annotations

import sys

import numpy as np
import torch

from common import markdown_table
from scoring import noised
from src.data.synth import reference_kit
from src.generation.checkpoint import load_model
from src.metrics.audio_sets import kit_hits_per_kind
from src.metrics.aligned import aligned_logmel
from src.metrics.by_label import NEIGHBOURS
from src.metrics.manifold import as_points, nearest_classes
from src.utils.cli import parse_cli, run_cli

HELD_OUT_SEED = 4242


@torch.no_grad()
def shares_in_class(model, x_t: torch.Tensor, times: torch.Tensor, labels: torch.Tensor | None,
                    hit_labels: list[str], reference: np.ndarray, reference_labels: list[str]) -> str:
    """Per class, the share of one-step predictions from x_t (null label where `labels` is None)
    that the k-NN classifier on the reference points puts in the hit's own class."""
    denoiser = model.conditioned(labels, None if labels is None else 1.0)
    x0, _ = denoiser.predict(x_t, times)
    audio = model.representation.decode(x0).float().clamp(-1, 1).cpu()
    points = as_points(aligned_logmel(audio, model.representation.sample_rate), "predictions")
    predicted = nearest_classes(points, reference, reference_labels, NEIGHBOURS)
    return ", ".join(f"{label} {np.mean([p == label for p, h in zip(predicted, hit_labels) if h == label]):.2f}"
                     for label in sorted(set(hit_labels)))


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "per_label": 8, "times": [0.3, 0.5, 0.7, 0.9, 0.95, 0.97, 0.99], "seed": 0},
                     argv)
    model, config = load_model(args.ckpt)
    if not model.labels:
        raise ValueError(f"{args.ckpt} is not a class-conditional model (no model.labels)")
    rep = model.representation
    clips, labels = reference_kit(args.per_label, rep.sample_rate, rep.channels, rep.length, seed=HELD_OUT_SEED)
    reference_audio, reference_labels = reference_kit(kit_hits_per_kind(len(clips)), rep.sample_rate, rep.channels,
                                                      rep.length)
    reference = as_points(aligned_logmel(reference_audio, rep.sample_rate), "reference")  # fitted once
    kit = (labels, reference, reference_labels)
    x0 = rep.encode(clips.to(model.device))
    ids = model.label_ids(labels)
    rows = []
    for t in args.times:
        x_t, times = noised(model, x0, float(t), args.seed)
        times = times.to(model.device)
        rows.append([f"{float(t):g}", shares_in_class(model, x_t, times, None, *kit),
                     shares_in_class(model, x_t, times, ids, *kit)])
    sys.stdout.write(f"{config.get('task_name')}: {len(clips)} held-out hits ({args.per_label} per class), "
                     f"{model.process.describe()}, one network evaluation each\n")
    header = ["t", "null label: share in the hit's class", "the hit's label: share in its class"]
    sys.stdout.write(markdown_table(header, rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
