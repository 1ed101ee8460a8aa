"""Latent diffusion epochs: encoding with the frozen VAE on the fly vs reading the latent cache.

    python benchmarks/latent_cache.py [size=demo|full] [epochs=3]

size=demo pairs exp=vae_demo's VAE with exp=latent_diffusion_demo; size=full pairs
exp=vae (teticio's 256x256 shape) with exp=latent_diffusion. The VAE is untrained (its
weights do not change the cost of encoding). Same model and data on both sides; epochs
alternate (on the fly, cache, on the fly, ...) so machine noise hits both alike."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import hydra

from common import experiment_config, markdown_table
from src.utils.diffusers_config import plain_config
from src.utils.cli import parse_cli, run_cli

PAIRS = {"demo": ("vae_demo", "latent_diffusion_demo"), "full": ("vae", "latent_diffusion")}


def untrained_vae(vae_exp: str, folder: Path) -> Path:
    cfg = experiment_config([f"exp={vae_exp}"], folder)
    vae = hydra.utils.instantiate(cfg.model.vae)
    plain_config(vae)  # Hydra's ListConfig values -> plain lists, so the config saves as JSON
    vae.save_pretrained(folder / "vae")
    return folder / "vae"


def epoch(model, optimizer, datamodule, train: bool) -> float:
    start = time.perf_counter()
    for batch in datamodule.train_dataloader():
        latents = model.representation.encode(batch)
        if train:
            loss = model.process.loss(model.network, latents)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start


def main(argv: list[str]) -> None:
    args = parse_cli({"size": "demo", "epochs": 3}, argv)
    vae_exp, latent_exp = PAIRS[args.size]
    work = Path(tempfile.mkdtemp())
    base = [f"exp={latent_exp}", f"model.vae={untrained_vae(vae_exp, work)}", "datamodule.num_workers=0",
            "datamodule.dataset.crop=start", "model.representation.scaling_factor=1.0"]
    plain = experiment_config(base, work / "run")
    model = hydra.utils.instantiate(plain.model)
    optimizer = model.configure_optimizers()["optimizer"]
    cached_cfg = experiment_config(base + ["datamodule=latent_cache", f"datamodule.cache_dir={work / 'cache'}"],
                                   work / "run")
    modules = {"on the fly": hydra.utils.instantiate(plain.datamodule),
               "latent cache": hydra.utils.instantiate(cached_cfg.datamodule)}
    modules["latent cache"].use_representation(model.representation)
    setup = {}
    for name, datamodule in modules.items():
        datamodule.prepare_data()
        start = time.perf_counter()
        datamodule.setup("fit")
        setup[name] = time.perf_counter() - start
    rows = []
    for train in (False, True):
        times = {name: [] for name in modules}
        for _ in range(args.epochs):
            for name, datamodule in modules.items():
                times[name].append(epoch(model, optimizer, datamodule, train))
        fly, cache = (statistics.median(times[name]) for name in modules)
        label = "data + encode + UNet step" if train else "data + encode only"
        rows.append([label, f"{fly:.2f}", f"{cache:.2f}", f"{fly / max(cache, 1e-9):.1f}x"])
    rows.append(["setup (cache: one-off encoding)", f"{setup['on the fly']:.2f}", f"{setup['latent cache']:.2f}", ""])
    sys.stdout.write(f"size={args.size} ({latent_exp} with an untrained {vae_exp} VAE), "
                     f"{len(modules['on the fly'].train_set)} training clips, median of {args.epochs} epochs\n")
    sys.stdout.write(markdown_table(["epoch seconds", "on the fly", "latent cache", "speed-up"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
