"""Command-line handling for resuming: `+ckpt=` / `ckpt=` spellings, `ckpt=last`, and the run folder."""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

CKPT_PREFIXES = ("+ckpt=", "++ckpt=", "ckpt=")


def find_ckpt_arg(argv: list[str]) -> tuple[int, str] | None:
    for i, arg in enumerate(argv):
        for prefix in CKPT_PREFIXES:
            if arg.startswith(prefix):
                return i, arg[len(prefix):]
    return None


def latest_last_ckpt(log_dir: str | Path, task_name: str) -> Path:
    """The newest `last.ckpt` among this experiment's runs."""
    runs = Path(log_dir) / task_name / "runs"
    candidates = sorted(runs.glob("*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"ckpt=last: no last.ckpt under {runs}/*/checkpoints/ for experiment '{task_name}'")
    return candidates[-1]


def _compose_paths(config_dir: Path, overrides: list[str]) -> tuple[str, str]:
    """(log_dir, task_name) as the run would see them, from a side composition."""
    plain = [o for o in overrides if not o.startswith(("hydra.", "+hydra.")) and find_ckpt_arg([o]) is None]
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        cfg = compose(config_name="train", overrides=plain)
    GlobalHydra.instance().clear()
    return cfg.paths.log_dir, cfg.task_name


def prepare_resume_argv(argv: list[str], config_dir: Path) -> list[str]:
    """Rewrite the arguments of a resumed run (argv[0] is the script).

    `+ckpt=X` becomes `ckpt=X` (the key exists in the base config); `last` becomes the
    newest last.ckpt of the experiment; the run folder becomes the checkpoint's, so
    logs, samples and the W&B run id continue where they were."""
    found = find_ckpt_arg(argv[1:])
    if found is None:
        return argv
    index, value = found[0] + 1, found[1]
    argv = list(argv)
    if value in ("", "null", "None"):
        argv[index] = "ckpt=null"
        return argv
    if value == "last":
        ckpt = latest_last_ckpt(*_compose_paths(config_dir, argv[1:]))
    else:
        ckpt = Path(value).expanduser().resolve()
        if not ckpt.is_file():
            raise FileNotFoundError(f"ckpt={value}: no such checkpoint file")
    argv[index] = f"ckpt={ckpt}"
    if ckpt.parent.name == "checkpoints" and not any(a.startswith("hydra.run.dir=") for a in argv):
        argv.append(f"hydra.run.dir={ckpt.parent.parent}")
    return argv
