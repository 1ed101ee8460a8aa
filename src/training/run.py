"""The training entry point behind train.py: config in, fitted Trainer out."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from src.training.instantiate import callbacks_for, instantiate_group, instantiate_loggers
from src.training.trainer_setup import translate_gpus

log = logging.getLogger(__name__)


def silence_misleading_warnings() -> None:
    """Lightning warnings that are expected here and would only confuse users."""
    # OnExceptionCheckpoint makes fit(ckpt_path=None) look for a checkpoint to continue from;
    # a fresh run folder has none, which Lightning reports as if something were wrong.
    warnings.filterwarnings("ignore", message=r".*ckpt_path=None.*was called without a model")
    warnings.filterwarnings("ignore", message=r".*there is no last checkpoint available")
    # We report clips/s and audio frames/s, not FLOPs.
    warnings.filterwarnings("ignore", message=r".*define a `flops_per_batch` attribute")


def build_trainer(cfg: DictConfig, loggers: list, callbacks: list) -> pl.Trainer:
    trainer_cfg = translate_gpus(OmegaConf.to_container(cfg.trainer, resolve=True))
    return hydra.utils.instantiate(trainer_cfg, logger=loggers or False, callbacks=callbacks)


def save_config(cfg: DictConfig, output_dir: Path) -> None:
    """The resolved config beside the run (Hydra keeps the unresolved one in .hydra/)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))


def train(cfg: DictConfig) -> pl.Trainer:
    """Instantiate data, model, callbacks, loggers and trainer from `cfg`, then fit."""
    silence_misleading_warnings()
    pl.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    datamodule = hydra.utils.instantiate(cfg.datamodule)
    model = hydra.utils.instantiate(cfg.model)
    model.run_config = OmegaConf.to_container(cfg, resolve=True)
    loggers = instantiate_loggers(cfg.get("logger"))
    callbacks = callbacks_for(loggers, instantiate_group(cfg.get("callbacks"), "callbacks"))
    trainer = build_trainer(cfg, loggers, callbacks)
    if trainer.is_global_zero:
        save_config(cfg, output_dir)
    for logger in loggers:
        logger.log_hyperparams(model.run_config)
    ckpt = cfg.get("ckpt")
    if ckpt:
        log.info("resuming from %s", ckpt)
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt or None)
    log.info("run folder: %s", output_dir)
    return trainer
