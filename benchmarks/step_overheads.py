"""What a training step spends outside the network: the optimizer's update, the EMA's and the clip loading.

    python benchmarks/step_overheads.py [exp=drum_diffusion_demo] [calls=50] [rounds=5]

On the experiment's model (its parameters given random gradients) and data: AdamW's per-tensor
loop (torch's CPU default) against its fused kernel; Lightning's EMA update (one function call per
tensor) against torch's multi-tensor one; a batch of clips decoded from the files against one kept in
memory (datamodule.dataset.cache_mb). Milliseconds per call, medians of `rounds` alternating rounds."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace

import hydra
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn

from common import alternate, experiment_config, markdown_table
from src.utils.cli import parse_cli, run_cli


def repeat(fn, calls: int):
    def run() -> None:
        for _ in range(calls):
            fn()
    return run


def clip_loaders(cfg, batch: int) -> dict:
    datamodule = hydra.utils.instantiate(cfg.datamodule)
    datamodule.prepare_data()
    datamodule.setup("fit")
    spec = datamodule.spec
    uncached = spec.make_dataset(datamodule.train_set.files[:batch])
    cached = replace(spec, cache_mb=256.0).make_dataset(datamodule.train_set.files[:batch])
    [cached[i] for i in range(batch)]  # fill the cache: training reads each clip once per epoch
    return {f"{batch} clips decoded": lambda: [uncached[i] for i in range(batch)],
            f"{batch} clips from memory": lambda: [cached[i] for i in range(batch)]}


def main(argv: list[str]) -> None:
    args = parse_cli({"exp": "drum_diffusion_demo", "calls": 50, "rounds": 5}, argv)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = experiment_config([f"exp={args.exp}", "datamodule.dataset.cache_mb=0"], tmp)
        model = hydra.utils.instantiate(cfg.model)
        for p in model.parameters():
            p.grad = torch.randn_like(p) * 1e-3
        per_tensor = torch.optim.AdamW(model.parameters(), lr=1e-4)
        fused = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
        ema_loop = AveragedModel(model, avg_fn=get_ema_avg_fn(0.99))
        ema_multi = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.99))
        candidates = {"AdamW step, per-tensor loop": per_tensor.step, "AdamW step, fused": fused.step,
                      "EMA update, per tensor (Lightning)": lambda: ema_loop.update_parameters(model),
                      "EMA update, multi-tensor": lambda: ema_multi.update_parameters(model),
                      **clip_loaders(cfg, cfg.datamodule.batch_size)}
        for fn in candidates.values():
            fn()  # the first EMA update copies; the first optimizer step allocates its state
        medians = alternate({name: repeat(fn, args.calls) for name, fn in candidates.items()}, args.rounds)
    params = sum(p.numel() for p in model.parameters())
    sys.stdout.write(f"{args.exp}: {params / 1e6:.2f} M parameters in {len(list(model.parameters()))} tensors, "
                     f"{torch.get_num_threads()} threads\n")
    rows = [[name, f"{1000 * seconds / args.calls:.2f}"] for name, seconds in medians.items()]
    sys.stdout.write(markdown_table(["call", "ms"], rows) + "\n")


if __name__ == "__main__":
    run_cli(main)
