"""Train an audio diffusion model: `python train.py exp=drum_diffusion_demo`.

Every config value can be overridden on the command line (Hydra syntax); see README.md."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("PROJECT_ROOT", str(ROOT))  # configs find exp/, data/ and logs/ from here

import hydra  # noqa: E402
from dotenv import load_dotenv  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from src.training.resume import prepare_resume_argv  # noqa: E402
from src.training.trainer_setup import DeviceConfigError  # noqa: E402
from src.utils.resolvers import register_resolvers  # noqa: E402

load_dotenv(ROOT / ".env")  # W&B project/entity/key; absent .env means defaults
register_resolvers()


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> None:
    from src.training.run import train  # heavy imports after argument parsing keeps --help fast

    try:
        train(cfg)
    except DeviceConfigError as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    try:
        sys.argv = prepare_resume_argv(sys.argv, ROOT / "configs")
    except FileNotFoundError as err:
        sys.exit(f"error: {err}")
    main()
