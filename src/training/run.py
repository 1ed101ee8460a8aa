"""The training entry point behind train.py: config in, fitted Trainer out."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import hydra
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf, open_dict

from src.generation.adapters import extract_adapter
from src.training import init_from
from src.training.fit_check import check_checkpoint_fits
from src.training.instantiate import callbacks_for, instantiate_group, instantiate_loggers
from src.training.trainer_setup import translate_gpus

log = logging.getLogger(__name__)


def silence_misleading_warnings() -> None:
    """Lightning warnings that are expected here and would only confuse users."""
    # We report clips/s and audio frames/s, not FLOPs.
    warnings.filterwarnings("ignore", message=r".*define a `flops_per_batch` attribute")
    # Lightning's own use of a deprecated torch API; nothing a user can act on.
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated")
    # Small datasets have short epochs; metrics are still logged every log_every_n_steps steps.
    warnings.filterwarnings("ignore", message=r".*smaller than the logging interval")
    rank_zero = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    if not any(isinstance(existing, _NoAdvertisements) for existing in rank_zero.filters):
        rank_zero.addFilter(_NoAdvertisements())


class _NoAdvertisements(logging.Filter):
    """Drops Lightning's tips to install its cloud products (litlogger, litmodels)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Tip: For seamless cloud" not in record.getMessage()


def build_trainer(cfg: DictConfig, loggers: list, callbacks: list) -> pl.Trainer:
    trainer_cfg = translate_gpus(OmegaConf.to_container(cfg.trainer, resolve=True))
    return hydra.utils.instantiate(trainer_cfg, logger=loggers or False, callbacks=callbacks)


def compile_network(model: pl.LightningModule) -> None:
    """torch.compile the diffusion network in place (`nn.Module.compile`): the process's loss and the
    samplers call the same module, so all of them run the compiled forward, and the state dict keeps
    its names, so checkpoints load without it. A copy (the EMA's) runs eagerly with its own weights."""
    network = getattr(model, "network", None)
    if not isinstance(network, torch.nn.Module):
        raise ValueError(f"compile=true compiles a diffusion model's network, and {type(model).__name__} has none: "
                         "set compile=false")
    network.compile()
    log.info("compile=true: the network is compiled at its first call of each shape (minutes on a first call)")


def save_config(cfg: DictConfig, output_dir: Path) -> None:
    """The resolved config beside the run (Hydra keeps the unresolved one in .hydra/)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))


def checkpoint_to_continue(cfg: DictConfig, output_dir: Path) -> str | None:
    """`ckpt` when given; else the run folder's newest own checkpoint (its last.ckpt, or the
    hpc_ckpt_*.ckpt Lightning's SLURM requeue writes), so that rerunning a named run (run_name=,
    hydra.run.dir= or a requeued SLURM job) continues it after a preemption."""
    if cfg.get("ckpt"):
        return str(cfg.ckpt)
    candidates = [output_dir / "checkpoints" / "last.ckpt", *output_dir.glob("hpc_ckpt_*.ckpt")]
    candidates = [path for path in candidates if path.is_file()]
    if not candidates:
        return None
    newest = max(candidates, key=lambda path: path.stat().st_mtime)
    log.info("the run folder %s already holds %s: continuing that run", output_dir, newest.name)
    return str(newest)


def attach_vocabulary(cfg: DictConfig, datamodule: pl.LightningDataModule) -> None:
    """A diffusion model learns the data's labels: its vocabulary (`model.labels`) and the size of
    its class embedding (`model.network.num_classes`) come from `datamodule.dataset.labels`, before
    the model is built, and travel in every checkpoint with the config."""
    if "labels" not in cfg.model or not hasattr(datamodule, "label_vocabulary"):
        return  # a VAE, or a datamodule without labels
    vocabulary = datamodule.label_vocabulary()
    wanted = list(cfg.model.labels or [])
    if vocabulary is None:
        if wanted:
            raise ValueError(f"model.labels={wanted} asks for a class-conditional model, but the data has no labels: "
                             "set datamodule.dataset.labels (folder, name:<regex> or a labels file)")
        return
    names = list(vocabulary.names)
    if wanted and wanted != names:
        raise ValueError(f"model.labels={wanted} but the data's labels are {names}; leave model.labels unset "
                         "(train.py fills it in)")
    with open_dict(cfg):
        cfg.model.labels = names
        cfg.model.network.num_classes = len(names)


def save_adapter(trainer: pl.Trainer, output_dir: Path) -> None:
    """A LoRA run's adapters on their own (a few MB), from its last checkpoint (EMA weights)."""
    last = output_dir / "checkpoints" / "last.ckpt"
    finetune = getattr(trainer.lightning_module, "finetune", None)
    if trainer.is_global_zero and finetune is not None and finetune.lora.rank and last.is_file():
        log.info("LoRA adapters: %s", extract_adapter(last, output_dir / "adapter.pt"))


def train(cfg: DictConfig) -> pl.Trainer:
    """Instantiate data, model, callbacks, loggers and trainer from `cfg`, then fit."""
    silence_misleading_warnings()
    pl.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    source = init_from.prepare(cfg)  # the source's audio, representation and process, before data and model
    datamodule = hydra.utils.instantiate(cfg.datamodule)
    attach_vocabulary(cfg, datamodule)
    model = hydra.utils.instantiate(cfg.model)
    init_from.load_weights(model, source)
    if cfg.get("compile"):
        compile_network(model)
    model.run_config = OmegaConf.to_container(cfg, resolve=True)
    ckpt = checkpoint_to_continue(cfg, output_dir)
    if ckpt:  # before anything is written into the run folder
        log.info("resuming from %s", ckpt)
        check_checkpoint_fits(model, ckpt, model.run_config["model"])
    loggers = instantiate_loggers(cfg.get("logger"))
    callbacks = callbacks_for(loggers, instantiate_group(cfg.get("callbacks"), "callbacks"))
    trainer = build_trainer(cfg, loggers, callbacks)
    if trainer.is_global_zero:
        save_config(cfg, output_dir)
    for logger in loggers:
        logger.log_hyperparams(model.run_config)
    # weights_only: a checkpoint is tensors and plain data; reading one never runs code from it.
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt, weights_only=True)
    save_adapter(trainer, output_dir)
    log.info("run folder: %s", output_dir)
    return trainer
