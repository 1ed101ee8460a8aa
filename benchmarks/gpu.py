"""GPU training and sampling numbers, in one call (needs CUDA; refuses to run without it).

    python benchmarks/gpu.py [exps=[drum_diffusion,mel_diffusion]] [steps=20] [out=gpu_results.md]

For each experiment at batch 1 (drum_diffusion: tiny-audio-diffusion's setting; its claim is
under 2 GB) and each variant (fp32 / bf16 autocast, with and without torch.compile and
channels_last), reports training clips/s and peak GPU memory; then sampling real-time factor
(audio seconds per second) with the EMA-free untrained model at 50 steps."""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

import hydra
import torch

from common import experiment_config, markdown_table
from src.utils.cli import parse_cli, run_cli


def train_rate(model, batch: torch.Tensor, steps: int, bf16: bool) -> tuple[float, float]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    torch.cuda.reset_peak_memory_stats()

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            loss = model.process.loss(model.network, model.representation.encode(batch))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(3):  # warm-up (and compilation)
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return steps * batch.shape[0] / (time.perf_counter() - start), torch.cuda.max_memory_allocated() / 2**30


def variant_model(cfg, compile_net: bool, channels_last: bool):
    model = hydra.utils.instantiate(cfg.model).cuda().train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile_net:
        model.network = torch.compile(model.network)
    return model


def sampling_rtf(cfg, steps: int = 50) -> float:
    model = hydra.utils.instantiate(cfg.model).cuda().eval()
    model.generate(1, steps=2)
    torch.cuda.synchronize()
    start = time.perf_counter()
    audio = model.generate(4, steps=steps)
    torch.cuda.synchronize()
    return audio.shape[0] * audio.shape[-1] / model.representation.sample_rate / (time.perf_counter() - start)


def main(argv: list[str]) -> None:
    args = parse_cli({"exps": ["drum_diffusion", "mel_diffusion"], "steps": 20, "out": "gpu_results.md"}, argv)
    if not torch.cuda.is_available():
        sys.exit("benchmarks/gpu.py needs a CUDA GPU")
    rows = []
    for exp in args.exps:
        cfg = experiment_config([f"exp={exp}", "datamodule.batch_size=1"], tempfile.mkdtemp())
        shape = (1, *hydra.utils.instantiate(cfg.model).representation.tensor_shape())
        audio = torch.randn(1, cfg.audio.channels, cfg.audio.length, device="cuda") * 0.3
        for bf16, compile_net, channels_last in itertools.product((False, True), repeat=3):
            if channels_last and len(shape) != 4:
                continue  # channels_last is a 2D (image) layout
            model = variant_model(cfg, compile_net, channels_last)
            rate, peak = train_rate(model, audio, args.steps, bf16)
            rows.append([exp, "bf16" if bf16 else "fp32", compile_net, channels_last, f"{rate:.2f}", f"{peak:.2f}"])
        rows.append([exp, "sampling RTF (50 steps, 4 clips)", "", "", f"{sampling_rtf(cfg):.1f}x", ""])
    table = markdown_table(["exp", "precision", "compile", "channels_last", "train clips/s", "peak GiB"], rows)
    text = f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}\n\n{table}\n"
    Path(args.out).write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    run_cli(main)
