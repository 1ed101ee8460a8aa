"""Does training help? The floor scale of clips from an untrained and a trained model.

    python benchmarks/demo_quality.py ckpt=<run>/checkpoints/last.ckpt [num_samples=48] [steps=50] [seed=0]
        [sampler=<name>] [pictures=<folder>]

With `pictures`, the first trained clips' spectrograms go there, and kit_vs_generated.png puts two
held-out kit clips per class (top row) above as many generated clips (bottom row).

Both models come from the checkpoint's own config (the untrained one with fresh network weights;
frozen representation state such as a latent model's VAE is shared) and sample from identical
noise with the model's default sampler (or `sampler`). Clips are scored against a held-out kit from
the demo's synthesiser (seed 777, each half as large as the generated set): the Fréchet distance as
a ratio to the real-vs-real floor, density and coverage beside their floors, the class each clip
falls nearest to, the representation's round-trip ceiling (mel, latent) and the memorisation ratio
against the run's training clips (median nearest-training-clip distance of generated clips over
that of training clips among themselves: ~1 healthy, ~0 copying)."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from common import markdown_table
from scoring import SCALE_HEADER, floor_scores, generate_clips, save_montage, save_pictures, scale_cells
from src.checkpoints.files import read_checkpoint
from src.checkpoints.trusted import instantiate_trusted
from src.data.file_dataset import item_input
from src.generation.checkpoint import load_model
from src.metrics.memorization import memorization_check
from src.utils.cli import parse_cli, run_cli


def training_clips(config: dict) -> torch.Tensor:
    datamodule = instantiate_trusted(config["datamodule"], "the checkpoint", "datamodule")
    datamodule.prepare_data()
    datamodule.setup("fit")
    return torch.stack([item_input(datamodule.train_set[i]) for i in range(len(datamodule.train_set))])


def main(argv: list[str]) -> None:
    args = parse_cli({"ckpt": "???", "num_samples": 48, "steps": 50, "seed": 0, "sampler": None,
                            "pictures": None}, argv)
    trained, config = load_model(args.ckpt)
    torch.manual_seed(args.seed)
    untrained = instantiate_trusted(config["model"], "the checkpoint").eval()
    # Only the network is "untrained": a representation's state (a latent model's
    # frozen VAE and measured scale) is shared, so both decode the same way.
    untrained.representation.load_state_dict(trained.representation.state_dict())
    rate = trained.representation.sample_rate
    training = training_clips(config)
    rows = []
    for name, model in (("untrained", untrained), (f"trained ({config.get('task_name')})", trained)):
        audio = generate_clips(model, args.num_samples, args.steps, args.seed, args.sampler)
        if args.pictures and model is trained:
            save_pictures(audio, rate, Path(args.pictures))
            save_montage(model, audio, Path(args.pictures) / "kit_vs_generated.png")
        memo = memorization_check(audio, training, rate).ratio_of_medians
        rows.append([name, *scale_cells(floor_scores(model, audio, args.seed)), f"{memo:.2f}"])
    sampler = trained.make_sampler(args.sampler)
    step = read_checkpoint(args.ckpt).get("global_step")
    sys.stdout.write(f"{args.num_samples} clips, {trained.process.describe()}, sampler {sampler.name}, {args.steps} steps "
                     f"({sampler.evaluations(args.steps)} network evaluations), seed {args.seed}, step {step}\n")
    sys.stdout.write(markdown_table(["model", *SCALE_HEADER, "memorisation ratio"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
