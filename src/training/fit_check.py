"""Before resuming: does the checkpoint's network fit the model this command builds?

When an experiment's defaults change between releases (a demo gains input channels, a UNet grows
a level), resuming an older run with today's command would fail deep inside Lightning with a
state-dict error. This check fails first, naming the settings that differ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from src.checkpoints.files import CONFIG_KEY
from src.checkpoints.legacy import upgrade_checkpoint

SHOWN = 5  # differences named beyond those that can decide the weights' shapes (all named)


MISSING = object()


class CheckpointMismatch(ValueError):
    """A checkpoint to resume whose weights do not fit the model the command builds."""


def flatten(config: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(config, dict):
        return {prefix: config}
    flat: dict[str, Any] = {}
    for key, value in config.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def weight_mismatches(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> list[str]:
    problems = [f"missing {key}" for key in expected if key not in found]
    problems += [f"unexpected {key}" for key in found if key not in expected]
    problems += [f"{key}: {tuple(found[key].shape)} in the checkpoint, {tuple(value.shape)} here"
                 for key, value in expected.items() if key in found and found[key].shape != value.shape]
    return problems


def check_labels(ckpt: str | Path, checkpoint: dict, model_config: dict) -> None:
    """The same number of classes would load without complaint, with every class id meaning
    another label: the vocabulary must be the checkpoint's."""
    trained_on = list(checkpoint.get(CONFIG_KEY, {}).get("model", {}).get("labels") or [])
    labels_now = list(model_config.get("labels") or [])
    if trained_on != labels_now:
        hint = ("it was trained without labels: resume it with datamodule.dataset.labels=none" if not trained_on
                else "resume it on the data and datamodule.dataset.labels it was trained with")
        raise CheckpointMismatch(f"ckpt={ckpt} was trained on the labels {trained_on or 'none'}, but the data now "
                                 f"gives {labels_now or 'none'}; {hint}")


def named_differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The model settings that differ, then -> now. The network's and representation's can decide
    the weights' shapes: every one of them is named, except options added since the checkpoint and
    switched off (unset -> 0, false or null), which go last with the rest, of which SHOWN are named."""
    def order(key: str) -> tuple[bool, bool, str]:
        return not key.startswith(("model.network", "model.representation")), key not in old and not new.get(key), key

    changed = [key for key in sorted(set(old) | set(new), key=order) if old.get(key, MISSING) != new.get(key, MISSING)]
    named = [key for key in changed if not any(order(key)[:2])]
    named += [key for key in changed if key not in named][:SHOWN]
    settings = "; ".join(f"{key}: {old[key] if key in old else 'unset'} -> {new[key] if key in new else 'unset'}"
                         for key in named)
    return settings + (f" and {len(changed) - len(named)} more" if len(changed) > len(named) else "")


def check_checkpoint_fits(model: torch.nn.Module, ckpt: str | Path, model_config: dict) -> None:
    """CheckpointMismatch naming the weights that do not fit and the model settings that changed."""
    checkpoint = upgrade_checkpoint(torch.load(ckpt, map_location="cpu", weights_only=True, mmap=True))
    problems = weight_mismatches(model.state_dict(), checkpoint.get("state_dict", {}))
    if not problems:
        check_labels(ckpt, checkpoint, model_config)
        return
    settings = named_differences(flatten(checkpoint.get(CONFIG_KEY, {}).get("model", {}), "model"),
                                 flatten(model_config, "model"))
    raise CheckpointMismatch(
        f"ckpt={ckpt} does not fit the model this command builds ({problems[0]}"
        f"{f' and {len(problems) - 1} more' if len(problems) > 1 else ''}). Its settings, then -> now: "
        f"{settings or 'none differ (another architecture)'}. Pass the run's settings on the command line to resume it")
