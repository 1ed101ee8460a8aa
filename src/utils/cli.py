"""`key=value` command lines for the non-training commands, checked against typed defaults."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, ValidationError


def parse_cli(defaults: Any, argv: list[str]) -> DictConfig:
    """Merge `key=value` arguments onto a dataclass of defaults.

    Unknown keys and values of the wrong type raise ValueError naming the argument, so a
    typo never silently falls back to a default. Values marked MISSING (???) are required."""
    base = OmegaConf.structured(defaults)
    try:
        cfg = OmegaConf.merge(base, OmegaConf.from_dotlist(list(argv)))
    except (ConfigKeyError, ValidationError) as err:
        raise ValueError(f"bad argument: {err.msg if hasattr(err, 'msg') else err}") from err
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ValueError(f"missing required argument(s): {', '.join(k + '=...' for k in missing)}")
    return cfg


def run_cli(main: Callable[[list[str]], object]) -> None:
    """Run a command's `main(argv)` with console logging; expected user errors (bad arguments,
    missing files, unusable checkpoints: ValueError and its kin) print one line and exit 1."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        main(sys.argv[1:])
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        sys.exit(f"error: {err}")
