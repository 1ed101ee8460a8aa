"""Build lists of callbacks and loggers from config groups (each entry has a `_target_`)."""

from __future__ import annotations

import logging

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig
from pytorch_lightning.loggers import Logger

log = logging.getLogger(__name__)


def group_entries(group: DictConfig | None, name: str) -> list[tuple[str, DictConfig]]:
    """The (key, config) entries of a dict group that are switched on (null ones are off)."""
    if not group:
        return []
    if not isinstance(group, DictConfig):
        raise TypeError(f"config group '{name}' must be a mapping of name -> object config")
    entries = []
    for key, entry in group.items():
        if entry is None:
            continue
        if not isinstance(entry, DictConfig) or "_target_" not in entry:
            raise ValueError(f"{name}.{key} has no _target_; set it to null to switch it off")
        entries.append((str(key), entry))
    return entries


def instantiate_group(group: DictConfig | None, name: str) -> list:
    """Instantiate every `_target_` entry of a dict group; null entries are switched off."""
    return [hydra.utils.instantiate(entry) for _, entry in group_entries(group, name)]


def instantiate_loggers(group: DictConfig | None) -> list[Logger]:
    """Loggers that fail to build or to start their backend (W&B with a broken install, a bad
    setting, no disk) are dropped with a warning: losing a dashboard must not lose a training run."""
    loggers = []
    for key, entry in group_entries(group, "logger"):
        try:
            logger = hydra.utils.instantiate(entry)
            _ = logger.experiment  # start the backend now, where a failure can be contained
        except Exception as err:  # third-party services raise anything; all mean "no dashboard"
            log.warning("logger.%s could not start (%s); training continues without it", key, err)
            continue
        loggers.append(logger)
    return loggers


def callbacks_for(loggers: list[Logger], callbacks: list[pl.Callback]) -> list[pl.Callback]:
    """Drop callbacks that need a logger when there is none (e.g. LearningRateMonitor)."""
    if loggers:
        return callbacks
    kept = [cb for cb in callbacks if not isinstance(cb, pl.callbacks.LearningRateMonitor)]
    if len(kept) != len(callbacks):
        log.info("no logger configured: LearningRateMonitor switched off")
    return kept
