"""What a waveform representation asks of a model: held-out kit clips encoded, some channels' signs
scrambled (each coefficient keeps its size, not its value), decoded and scored per class.

    python benchmarks/waveform_coherence.py [mdct_bands=32] [low_bands=[0,1,2,4]] [sample_rate=16000] [length=8192]

A model that gives a band the right power but not the right values is what scrambling imitates. On an
MDCT with short frames, a kick's tone spreads over its lowest bands in values that cancel on the
inverse; scrambled, they leave a floor. With `mdct_low_bands` (src/representations/lowband.py) the
tone travels as samples instead, and the MDCT's bands hold little of it. Each row scrambles the
MDCT bands [first, last) only, never the low-path channels, and scores the decoded clips (seed 4242,
16 per class) against the reference kit (seed 777), each class against its own floor."""

from __future__ import annotations

import sys

import torch

from common import markdown_table
from src.data.synth import DRUM_KINDS, reference_kit
from src.metrics.audio_sets import kit_hits_per_kind
from src.metrics.by_label import label_report
from src.representations.waveform import WaveformRepresentation
from src.utils.cli import parse_cli, run_cli

SPANS = ((0, 0), (0, 4), (0, 8), (4, 32), (8, 32))  # MDCT bands [first, last) scrambled; (0, 0): none


def scrambled(rep: WaveformRepresentation, clips: torch.Tensor, first: int, last: int,
              generator: torch.Generator) -> torch.Tensor:
    """`clips` through `rep` with the signs of MDCT bands [first, last) drawn at random."""
    x = rep.encode(clips)
    offset = rep.low_channels
    span = x[:, offset + first: offset + last]
    signs = torch.randint(0, 2, span.shape, generator=generator).to(x.dtype) * 2 - 1
    x[:, offset + first: offset + last] = span * signs
    return rep.decode(x)


def main(argv: list[str]) -> None:
    args = parse_cli({"mdct_bands": 32, "low_bands": [0, 1, 2, 4], "sample_rate": 16000, "length": 8192}, argv)
    reference, labels = reference_kit(kit_hits_per_kind(48), args.sample_rate, 1, args.length)
    clips, kinds = reference_kit(16, args.sample_rate, 1, args.length, seed=4242)
    rows = []
    for low_bands in args.low_bands:
        rep = WaveformRepresentation(args.sample_rate, 1, args.length, mdct_bands=args.mdct_bands,
                                     mdct_low_bands=int(low_bands))
        generator = torch.Generator().manual_seed(0)
        for first, last in SPANS:
            audio = scrambled(rep, clips, first, last, generator)
            per = label_report(audio, kinds, reference, labels, args.sample_rate, seed=0)["per_label"]
            span = "none" if first == last else f"{first}-{last - 1}"
            rows.append([str(low_bands), span, *(f"{per[kind]['scale']['frechet']['ratio']:.2f}" for kind in DRUM_KINDS)])
    sys.stdout.write(f"{args.mdct_bands}-band MDCT at {args.sample_rate} Hz; class Fréchet / class floor\n")
    sys.stdout.write(markdown_table(["mdct_low_bands", "bands scrambled", *DRUM_KINDS], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
