"""Processes side by side on one family's demo, at equal training steps, on the floor scale.

    python benchmarks/process_compare.py family=waveform steps=400
    python benchmarks/process_compare.py family=mel steps=400
    python benchmarks/process_compare.py family=latent steps=1000 vae_steps=300

Each process trains the family's demo experiment for `steps` optimizer steps from the same seed, then
samples `num_samples` clips (its default sampler, `sample_steps` steps) from the same noise. The clips
are scored against a held-out kit (synthesiser seed 777, each half as large as the generated set) as
ratios to the floor; mel and latent rows also give the representation's round-trip ceiling. Spectrogram
grids of the first clips land in `out_dir` to be looked at, and a JSON of every number beside them."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from common import ROOT, experiment_config, markdown_table
from scoring import SCALE_HEADER, floor_scores, generate_clips, save_pictures, scale_cells
from src.generation.checkpoint import load_model
from src.training.run import train
from src.utils.cli import parse_cli, run_cli

log = logging.getLogger("process_compare")
FAMILIES = {  # demo experiment, processes compared (each family's DDPM variant is its own config)
    "waveform": ("drum_diffusion_demo", ["v_cosine", "edm", "rectified_flow", "ddpm"]),
    "mel": ("mel_diffusion_demo", ["ddpm_v", "v_cosine", "edm", "rectified_flow"]),
    "latent": ("latent_diffusion_demo", ["ddpm_latent", "v_cosine", "edm", "rectified_flow"]),
}
QUIET = ["logger=csv", "callbacks.quality=null", "callbacks.model_summary=null", "callbacks.progress_bar=null"]


def train_run(exp: str, overrides: list[str], out: Path) -> tuple[Path, float]:
    """Train once (or reuse a finished run in `out`): its final checkpoint and wall seconds."""
    ckpt, timing = out / "final.ckpt", out / "train_seconds.txt"
    if ckpt.is_file() and timing.is_file():
        return ckpt, float(timing.read_text())
    cfg = experiment_config([f"exp={exp}", f"paths.data_dir={ROOT / 'data'}", *QUIET, *overrides], out)
    start = time.perf_counter()
    trainer = train(cfg)
    seconds = time.perf_counter() - start
    trainer.save_checkpoint(ckpt)  # at the final step, whatever the validation interval (EMA weights in state_dict)
    timing.write_text(f"{seconds:.1f}")
    return ckpt, seconds


def score_run(ckpt: Path, num_samples: int, sample_steps: int, seed: int, pictures: Path) -> dict:
    model, _ = load_model(ckpt)
    audio = generate_clips(model, num_samples, sample_steps, seed)
    save_pictures(audio, model.representation.sample_rate, pictures)
    return {"sampler": model.sampler, "evaluations": model.make_sampler().evaluations(sample_steps),
            **floor_scores(model, audio, seed)}


def row(process: str, result: dict) -> list[str]:
    return [process, f"{result['sampler']} ({result['evaluations']})", f"{result['train_seconds']:.0f}",
            *scale_cells(result)]


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_cli({"family": "waveform", "steps": 400, "num_samples": 48, "sample_steps": 50, "seed": 0,
                            "processes": None, "vae_steps": 300, "out_dir": "benchmarks/results/process_compare"}, argv)
    exp, processes = FAMILIES[args.family]
    out_dir = ROOT / args.out_dir / args.family
    extra = []
    if args.family == "latent":
        vae, _ = train_run("vae_demo", [f"trainer.max_steps={args.vae_steps}"], out_dir / "vae")
        extra = [f"model.vae={vae}"]
    results = {}
    for process in args.processes or processes:
        run_dir = out_dir / process
        # the waveform demo's gate is read by v_cosine alone: the other processes run ungated
        gate = ["model.network.gate=false"] if args.family == "waveform" and process != "v_cosine" else []
        ckpt, seconds = train_run(exp, [f"model/process={process}", f"trainer.max_steps={args.steps}", *extra, *gate],
                                  run_dir)
        results[process] = {"train_seconds": seconds, **score_run(ckpt, args.num_samples, args.sample_steps,
                                                                   args.seed, run_dir / "pictures")}
        (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    header = ["process", "sampler (evaluations)", "train s", *SCALE_HEADER]
    sys.stdout.write(f"{args.family}: {exp}, {args.steps} steps, {args.num_samples} clips, "
                     f"{args.sample_steps} sampling steps, seed {args.seed}\n")
    sys.stdout.write(markdown_table(header, [row(p, r) for p, r in results.items()]) + "\n")


if __name__ == "__main__":
    run_cli(main)
