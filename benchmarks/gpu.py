"""GPU training and sampling numbers, in one call (needs CUDA; refuses to run without it).

    python benchmarks/gpu.py [exps=[drum_diffusion,mel_diffusion]] [batches=[1]] [precisions=[fp32,bf16]]
        [compile=[false,true]] [steps=20] [out=gpu_results.md]

For each experiment, batch size (drum_diffusion at 1 is tiny-audio-diffusion's setting; its claim is
under 2 GB) and variant (fp32 / bf16 autocast, with and without torch.compile, and channels_last for
2D models), reports training clips/s and peak GPU memory; then the sampling real-time factor (audio
seconds per second) of the untrained model at 50 steps.

Each step is the training step's own path: `batch_network` (labels and their dropout, when the
experiment has them) and the process's loss. torch.compile compiles the network in place
(`nn.Module.compile`), so every call of it, from whichever process or wrapper, runs the compiled
forward; the `graphs` column counts the graphs Dynamo compiled, 0 where nothing was compiled."""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path

import hydra
import torch
import torch._dynamo

from common import experiment_config, markdown_table
from src.data.file_dataset import split_batch
from src.utils.cli import parse_cli, run_cli

PRECISIONS = ("fp32", "bf16")


def train_rate(model, batch, steps: int, bf16: bool) -> tuple[float, float]:
    """(clips/s, peak GiB) over `steps` optimizer steps, after three warm-up (and compiling) steps."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    torch.cuda.reset_peak_memory_stats()

    def step() -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            x, network = model.batch_network(batch)
            loss = model.process.loss(network, x)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    clips = split_batch(batch)[0].shape[0]
    return steps * clips / (time.perf_counter() - start), torch.cuda.max_memory_allocated() / 2**30


def variant_model(cfg, compile_net: bool, channels_last: bool):
    model = hydra.utils.instantiate(cfg.model).cuda().train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile_net:
        model.network.compile()  # in place: the module's own __call__ runs the compiled forward
    return model


def make_batch(cfg, model, size: int):
    """Random audio at the experiment's shape, with class ids when the model is conditional."""
    audio = torch.randn(size, cfg.audio.channels, cfg.audio.length, device="cuda") * 0.3
    if not model.labels:
        return audio
    return audio, torch.arange(size, device="cuda") % len(model.labels)


def sampling_rtf(cfg, steps: int = 50) -> float:
    model = hydra.utils.instantiate(cfg.model).cuda().eval()
    model.generate(1, steps=2)
    torch.cuda.synchronize()
    start = time.perf_counter()
    audio = model.generate(4, steps=steps)
    torch.cuda.synchronize()
    return audio.shape[0] * audio.shape[-1] / model.representation.sample_rate / (time.perf_counter() - start)


def experiment_rows(exp: str, args) -> list[list[object]]:
    cfg = experiment_config([f"exp={exp}"], tempfile.mkdtemp())
    is_2d = len(hydra.utils.instantiate(cfg.model).representation.tensor_shape()) == 3
    rows = []
    for size, precision, compile_net, channels_last in itertools.product(
            args.batches, args.precisions, args.compile, (False, True)):
        if channels_last and not is_2d:
            continue  # channels_last is a 2D (image) layout
        torch._dynamo.reset()
        torch._dynamo.utils.counters.clear()
        model = variant_model(cfg, compile_net, channels_last)
        rate, peak = train_rate(model, make_batch(cfg, model, size), args.steps, precision == "bf16")
        graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
        rows.append([exp, size, precision, compile_net, channels_last, graphs, f"{rate:.1f}", f"{peak:.2f}"])
        del model
        torch.cuda.empty_cache()
    rows.append([exp, 4, "sampling RTF (50 steps)", "", "", "", f"{sampling_rtf(cfg):.1f}x", ""])
    return rows


def main(argv: list[str]) -> None:
    args = parse_cli({"exps": ["drum_diffusion", "mel_diffusion"], "batches": [1], "precisions": list(PRECISIONS),
                      "compile": [False, True], "steps": 20, "out": "gpu_results.md"}, argv)
    unknown = sorted(set(args.precisions) - set(PRECISIONS))
    if unknown or min(args.batches, default=0) < 1 or args.steps < 1:
        sys.exit(f"precisions must be among {list(PRECISIONS)}, batches positive and steps at least 1; "
                 f"got {list(args.precisions)}, {list(args.batches)}, {args.steps}")
    if not torch.cuda.is_available():
        sys.exit("benchmarks/gpu.py needs a CUDA GPU")
    rows = [row for exp in args.exps for row in experiment_rows(exp, args)]
    header = ["exp", "batch", "precision", "compile", "channels_last", "graphs", "train clips/s", "peak GiB"]
    text = f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}\n\n{markdown_table(header, rows)}\n"
    Path(args.out).write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    run_cli(main)
