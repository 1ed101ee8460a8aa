"""Generate audio from a trained model.

    python generate.py ckpt=<run>/checkpoints/last.ckpt num_samples=8 steps=50 seed=0 out_dir=out/
    python generate.py ckpt=saved_models/<name> num_samples=8
"""

from __future__ import annotations

from src.generation.sample import GenerateArgs, generate
from src.utils.cli import parse_cli, run_cli


def main(argv: list[str]) -> None:
    args = parse_cli(GenerateArgs, argv)
    generate(args)


if __name__ == "__main__":
    run_cli(main)
