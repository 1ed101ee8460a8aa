"""Generate audio from a trained model.

    python generate.py ckpt=<run>/checkpoints/last.ckpt num_samples=8 steps=50 seed=0 out_dir=out/
    python generate.py ckpt=saved_models/<name> num_samples=8
"""

from __future__ import annotations

import logging
import sys

from src.generation.checkpoint import CheckpointError
from src.generation.sample import GenerateArgs, generate
from src.utils.cli import parse_cli


def main(argv: list[str]) -> None:
    args = parse_cli(GenerateArgs, argv)
    generate(args)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        main(sys.argv[1:])
    except (ValueError, FileNotFoundError, CheckpointError) as err:
        sys.exit(f"error: {err}")
