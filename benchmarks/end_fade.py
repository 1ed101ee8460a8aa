"""What a class-conditional waveform model leaves at the end of its clips, and what an end fade does to it.

    python benchmarks/end_fade.py ckpt=<run>/checkpoints/last.ckpt [fades_ms=[0,2,4,8,16]] [per_label=16]
        [steps=50] [seed=0]

Every label is sampled once (`per_label` clips at the model's guidance scale, without the model's own
end fade), then each row applies a half-cosine fade of that many milliseconds
(`WaveformRepresentation.end_fade_ms`) to the same clips. Per class it reports the level of the
clips' last 2 ms against each clip's peak, beside the held-out kit's own (synthesiser seed 777), and
the class's Fréchet ratio to its floor; the whole set is scored on the floor scale as in
conditional_quality.py. A level far above the kit's is a click that the features, which weigh the
hit itself, barely see, and a listener hears at once."""

from __future__ import annotations

import sys

import torch

from common import markdown_table
from conditional_quality import by_label
from scoring import floor_scores, scale_cells
from src.data.synth import reference_kit
from src.generation.checkpoint import load_model
from src.metrics.audio_sets import kit_hits_per_kind
from src.metrics.by_label import label_report
from src.representations.waveform import WaveformRepresentation
from src.utils.cli import parse_cli, run_cli

TAIL_MS = 2.0


def tail_levels(audio: torch.Tensor, labels: list[str], names: tuple[str, ...], sample_rate: int) -> list[str]:
    """Mean level (dB against each clip's peak) of every class's last TAIL_MS."""
    n = round(TAIL_MS * sample_rate / 1000)
    peak = audio.abs().amax(dim=(-1, -2)).clamp_min(1e-9)
    level = 20 * torch.log10(audio[..., -n:].pow(2).mean(dim=(-1, -2)).sqrt() / peak + 1e-12)
    return [f"{level[[i for i, label in enumerate(labels) if label == name]].mean():.1f}" for name in names]


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "fades_ms": [0, 2, 4, 8, 16], "per_label": 16, "steps": 50, "seed": 0}, argv)
    model, _ = load_model(args.ckpt)
    rep = model.representation
    if not isinstance(rep, WaveformRepresentation) or not model.labels:
        raise ValueError(f"{args.ckpt} is not a class-conditional waveform model")
    names = model.labels
    default_fade = rep.end_fade
    rep.end_fade = 0  # sample once without it; each row fades the same clips
    audio, requested = by_label(model, args.steps, args.per_label, args.seed, None, model.cfg_scale)
    reference, kinds = reference_kit(kit_hits_per_kind(len(audio)), rep.sample_rate, rep.channels, rep.length)
    rows = [["held-out kit", *tail_levels(reference, kinds, names, rep.sample_rate), "-", "-", "-", "-"]]
    for ms in args.fades_ms:
        rep.end_fade = round(float(ms) * rep.sample_rate / 1000)
        faded = rep.finish(audio)
        per = label_report(faded, requested, reference, kinds, rep.sample_rate, seed=args.seed)["per_label"]
        classes = " / ".join(f"{per[name]['scale']['frechet']['ratio']:.2f}" for name in names)
        rows.append([f"fade {float(ms):g} ms", *tail_levels(faded, requested, names, rep.sample_rate), classes,
                     *scale_cells(floor_scores(model, faded, args.seed))[:3]])
    sys.stdout.write(f"{len(audio)} clips ({args.per_label} per label), {args.steps} steps, guidance {model.cfg_scale:g}, "
                     f"seed {args.seed}; the model's own end fade: {1000 * default_fade / rep.sample_rate:g} ms\n")
    sys.stdout.write(markdown_table(["clips", *(f"{name}: last {TAIL_MS:g} ms, dB under peak" for name in names),
                                     f"{' / '.join(names)} Fréchet", "Fréchet / floor [95%]", "density / floor",
                                     "coverage / floor"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
