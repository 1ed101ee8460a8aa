"""Does training help? Score clips from an untrained and a trained model against the training clips.

    python benchmarks/demo_quality.py ckpt=<run>/checkpoints/last.ckpt [num_samples=32] [steps=50] [seed=0]

Both models come from the checkpoint's own config (the untrained one with fresh diffusion
weights; frozen representation state such as a latent model's VAE is shared) and sample from
identical noise. The reference is the run's training split, loaded by its
own DataModule; with ../shared/data/drum_oneshots present, real drum one-shots are scored too.
Reports the log-mel Fréchet distance, the kernel distance (unbiased MMD, Gaussian kernel) and
the memorisation ratio (median nearest-training-clip distance of generated clips over that of
training clips among themselves)."""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
import torch
from omegaconf import OmegaConf

from common import ROOT, markdown_table
from src.audio.io import fit_length, read_audio, resample, to_channels
from src.data.audio_folder import list_audio_files
from src.generation.checkpoint import load_model, read_checkpoint
from src.metrics.distances import frechet_distance, kernel_distance
from src.metrics.features import logmel_stats
from src.metrics.memorization import memorization_check

SHARED_DRUMS = ROOT.parent / "shared" / "data" / "drum_oneshots"


def training_clips(config: dict) -> torch.Tensor:
    datamodule = hydra.utils.instantiate(OmegaConf.create(config["datamodule"]))
    datamodule.prepare_data()
    datamodule.setup("fit")
    return torch.stack([datamodule.train_set[i] for i in range(len(datamodule.train_set))])


def folder_clips(folder: Path, rate: int, channels: int, length: int) -> torch.Tensor:
    clips = []
    for path in list_audio_files(folder):
        audio, file_rate = read_audio(path)
        clips.append(fit_length(to_channels(resample(audio, file_rate, rate), channels), length))
    return torch.stack(clips)


def scores(generated: torch.Tensor, reference: torch.Tensor, rate: int) -> list[str]:
    gen, ref = logmel_stats(generated, rate), logmel_stats(reference, rate)
    memo = memorization_check(generated, reference, rate)
    return [f"{frechet_distance(gen, ref):.0f}", f"{kernel_distance(gen, ref):.3f}", f"{memo.ratio_of_medians:.2f}"]


def main(argv: list[str]) -> None:
    args = OmegaConf.merge({"ckpt": "???", "num_samples": 32, "steps": 50, "seed": 0}, OmegaConf.from_dotlist(argv))
    trained, config = load_model(args.ckpt)
    torch.manual_seed(args.seed)
    untrained = hydra.utils.instantiate(OmegaConf.create(config["model"])).eval()
    # Only the network is "untrained": a representation's state (a latent model's
    # frozen VAE and measured scale) is shared, so both decode the same way.
    untrained.representation.load_state_dict(trained.representation.state_dict())
    rep = trained.representation
    noise = torch.randn((args.num_samples, *rep.tensor_shape()), generator=torch.Generator().manual_seed(args.seed))
    outputs = {name: model.generate_from_noise(noise, args.steps) for name, model in
               (("untrained", untrained), (f"trained ({config.get('task_name')})", trained))}
    references = {"training clips": training_clips(config)}
    if SHARED_DRUMS.is_dir():
        references["real drum one-shots"] = folder_clips(SHARED_DRUMS, rep.sample_rate, rep.channels, rep.length)
    rows = [[name, ref_name, *scores(audio, ref, rep.sample_rate)]
            for ref_name, ref in references.items() for name, audio in outputs.items()]
    header = ["model", "reference", "log-mel Fréchet (lower better)", "kernel distance", "memorisation ratio"]
    step = read_checkpoint(args.ckpt).get("global_step")
    sys.stdout.write(f"{args.num_samples} clips, {args.steps} steps, seed {args.seed}, checkpoint at step {step}\n")
    sys.stdout.write(markdown_table(header, rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
