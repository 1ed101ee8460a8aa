"""`key=value` command lines for the non-training commands, checked against typed defaults."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, ValidationError


HELP_FLAGS = ("-h", "--help", "help")


class HelpRequested(Exception):
    """`--help` on the command line; carries the accepted arguments with their defaults."""

    def text(self, doc: str | None) -> str:
        """What `--help` prints: the command's docstring, then its arguments."""
        doc = (doc or "").strip()
        return f"{doc}\n\n{self}\n" if doc else f"{self}\n"


def describe_arguments(base: DictConfig) -> str:
    lines = ["arguments (key=value):"]
    plain = OmegaConf.to_container(base, resolve=False)
    for key, value in plain.items():
        shown = "required" if OmegaConf.is_missing(base, key) else f"default {value!r}"
        lines.append(f"  {key}  ({shown})")
    return "\n".join(lines)


def parse_cli(defaults: Any, argv: list[str]) -> DictConfig:
    """Merge `key=value` arguments onto defaults: a dataclass (typed) or a dict (keys checked).

    Unknown keys and values of the wrong type raise ValueError naming the argument, so a
    typo never silently falls back to a default. Values marked MISSING (???) are required.
    `--help` raises HelpRequested with the accepted arguments."""
    base = OmegaConf.create(defaults) if isinstance(defaults, dict) else OmegaConf.structured(defaults)
    OmegaConf.set_struct(base, True)
    if any(arg in HELP_FLAGS for arg in argv):
        raise HelpRequested(describe_arguments(base))
    try:
        cfg = OmegaConf.merge(base, OmegaConf.from_dotlist(list(argv)))
    except (ConfigKeyError, ValidationError) as err:
        message = str(err.msg if hasattr(err, "msg") else err).splitlines()[0]
        raise ValueError(f"bad argument: {message}; accepted: {', '.join(str(k) for k in base.keys())}") from err
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
    except HelpRequested as request:
        sys.stdout.write(request.text(sys.modules["__main__"].__doc__))
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        sys.exit(f"error: {err}")
