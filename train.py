"""Train an audio diffusion model: `python train.py exp=drum_diffusion_demo`.

Every config value can be overridden on the command line (Hydra syntax); see README.md."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
os.environ.setdefault("PROJECT_ROOT", str(ROOT))  # configs find exp/, data/ and logs/ from here

import hydra  # noqa: E402
from dotenv import load_dotenv  # noqa: E402
from omegaconf import DictConfig  # noqa: E402
from omegaconf.errors import InterpolationResolutionError  # noqa: E402

from src.training.resume import prepare_resume_argv  # noqa: E402
from src.training.trainer_setup import DeviceConfigError  # noqa: E402
from src.utils.resolvers import RequiredSetting, register_resolvers  # noqa: E402

SIGTERM_EXIT = 143  # 128 + SIGTERM, what a shell reports for a process a SIGTERM ended

load_dotenv(ROOT / ".env")  # W&B project/entity/key; absent .env means defaults
register_resolvers()


@hydra.main(version_base="1.3", config_path="configs", config_name="train")
def main(cfg: DictConfig) -> None:
    # heavy imports after argument parsing keep --help fast
    from pytorch_lightning.utilities.exceptions import SIGTERMException

    from src.training.fit_check import CheckpointMismatch
    from src.training.run import train

    try:
        train(cfg)
    except (DeviceConfigError, CheckpointMismatch) as err:
        sys.exit(f"error: {err}")
    except InterpolationResolutionError as err:
        required = _required_setting(err)
        if required is None:
            raise
        sys.exit(f"error: {required}")
    except SIGTERMException:
        # A scheduler must see that the run did not finish; last.ckpt holds where it stopped.
        logging.getLogger("train").warning(
            "stopped by SIGTERM; last.ckpt in %s/checkpoints holds the step it reached; "
            "the same command (with the same run_name or hydra.run.dir) resumes it", cfg.paths.output_dir)
        sys.exit(SIGTERM_EXIT)


def _required_setting(err: BaseException) -> RequiredSetting | None:
    """The ${required:...} of an experiment behind a config error, if that is what it is."""
    while err is not None and not isinstance(err, RequiredSetting):
        err = err.__cause__ or err.__context__
    return err


if __name__ == "__main__":
    try:
        sys.argv = prepare_resume_argv(sys.argv, ROOT / "configs")
    except FileNotFoundError as err:
        sys.exit(f"error: {err}")
    main()
