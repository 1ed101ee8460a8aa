"""The LightningModule: a representation, a network and a process, injected from config."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from src.data.file_dataset import split_batch
from src.models.base import ConfiguredModule
from src.checkpoints.legacy import upgrade_checkpoint
from src.networks.adapters import FinetuneSettings, add_lora, freeze
from src.networks.base import Network, NetworkFn
from src.networks.conditioning import Guided, WithLabels, drop_labels
from src.processes.base import Process
from src.representations.base import Representation
from src.samplers.base import Denoiser, Sampler, check_eps_scaling
from src.samplers.registry import make_sampler, sample

# The weight of a null_from_input classifier's cross-entropy in the training loss (see training_step).
CLASS_LOSS_WEIGHT = 0.01


class AudioDiffusionModule(ConfiguredModule):
    """Trains `network` under `process` on `representation.encode(audio)`, and samples audio back
    through `decode`.

    Args:
        representation: audio <-> model-tensor mapping.
        network: f(x, c_noise), the only trained part.
        process: noising, training target, loss weighting and the sampling schedule.
        optimizer: partial optimizer (from `_partial_: true` config) taking the parameters.
        scheduler: optional partial LR scheduler taking the optimizer; stepped every optimizer step.
        sampler: default sampler for validation samples and generation (null: the process's default).
        eta: default noise of the ancestral sampler (null: its own default, 1).
        eps_scaling: exposure-bias correction c of every sampler (src/samplers/base.py, Denoiser): on a
            grid of n steps the predicted noise is divided by 1 + c / n; 0 samples the network as trained.
        sample_steps: sampling steps used by validation-time generation.
        val_seed: seed for validation noise, so validation losses are comparable across the run.
        labels: the class vocabulary of a class-conditional model (train.py fills it from the data's
            labels); null for an unconditional one. The network needs num_classes = len(labels).
        cfg_dropout: share of training labels replaced by the null label, so that one model learns
            every class and the unconditional case that classifier-free guidance needs.
        cfg_scale: default guidance scale when sampling a class (0 unconditional, 1 the conditional
            model alone, > 1 stronger adherence to the class).
        finetune: LoRA adapters and frozen parameters of the network (src/networks/adapters.py);
            part of the model, so a checkpoint rebuilds with its adapters.
        null_copies: items of each training batch that are also denoised under the null label and
            fitted to their labelled prediction (Process.with_null_copies); 0 trains the null label
            on dropped labels alone (cfg_dropout).
    """

    def __init__(
        self,
        representation: Representation,
        network: Network,
        process: Process,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        sampler: str | None = None,
        eta: float | None = None,
        sample_steps: int = 50,
        val_seed: int = 1234,
        labels: Sequence[str] | None = None,
        cfg_dropout: float = 0.5,
        cfg_scale: float = 1.0,
        finetune: dict | None = None,
        eps_scaling: float = 0.0,
        null_copies: int = 0,
    ) -> None:
        super().__init__(optimizer, scheduler)
        if not isinstance(network, Network) or not isinstance(process, Process):
            raise ValueError(f"model.network must be a Network and model.process a Process, "
                             f"got {type(network).__name__} and {type(process).__name__}")
        network.check_shape(representation.tensor_shape())
        if network.gate != process.gate:
            raise ValueError(f"model.network.gate={network.gate} but the {process.name} process has gate={process.gate}: "
                             "only a gated process reads the log-power channels a gated network adds (v_cosine follows "
                             "model.network.gate; with another process set model.network.gate=false)")
        self.representation = representation
        self.network = network
        self.process = process
        self.sampler = sampler or process.default_sampler
        self.eta = eta
        make_sampler(self.sampler, process, eta)  # a bad default fails at start, not at the first validation
        self.eps_scaling = check_eps_scaling(eps_scaling)
        self.sample_steps = sample_steps
        self.val_seed = val_seed
        self.labels = check_vocabulary(labels, network.num_classes)
        if not 0.0 <= cfg_dropout <= 1.0 or cfg_scale < 0:
            raise ValueError(f"model.cfg_dropout must be in [0, 1] and model.cfg_scale at least 0, "
                             f"got {cfg_dropout} and {cfg_scale}")
        self.cfg_dropout = cfg_dropout
        self.cfg_scale = cfg_scale
        self.null_copies = check_null_copies(null_copies, self.labels, process)
        self.finetune = FinetuneSettings.from_config(finetune)
        freeze(self.network, self.finetune.freeze)
        if self.finetune.lora.rank:
            add_lora(self.network, self.finetune.lora)

    @property
    def denoiser(self) -> Denoiser:
        """The unconditional denoiser (a conditional model's null label)."""
        return self.conditioned(None)

    def conditioned(self, labels: torch.Tensor | None, cfg_scale: float | None = None) -> Denoiser:
        """The denoiser for `labels` (one class id, or one row of mixing weights, per item; None:
        the null label) under classifier-free guidance `cfg_scale` (default: the model's)."""
        if labels is None:
            return Denoiser(self.process, WithLabels(self.network, None), eps_scaling=self.eps_scaling)
        if not self.labels:
            raise ValueError("this model was trained without labels; sample it without label=")
        scale = self.cfg_scale if cfg_scale is None else cfg_scale
        return Denoiser(self.process, Guided(self.network, labels.to(self.device), scale),
                        eps_scaling=self.eps_scaling)

    def label_ids(self, names: Sequence[str]) -> torch.Tensor:
        """Class ids of label names; an unknown name is an error listing the known ones."""
        if not self.labels:
            raise ValueError("this model was trained without labels; sample it without label=")
        unknown = [name for name in names if name not in self.labels]
        if unknown:
            raise ValueError(f"unknown label {unknown[0]!r}; the known labels are: {', '.join(self.labels)}")
        return torch.tensor([self.labels.index(name) for name in names], dtype=torch.long)

    def batch_network(self, batch: Any) -> tuple[torch.Tensor, NetworkFn]:
        """(clean model tensors, the network to train them with): a labelled batch binds its labels,
        each replaced by the null label with probability cfg_dropout (never in validation)."""
        audio, labels = split_batch(batch)
        x = self.encode_batch(audio)
        if not self.labels:
            return x, self.network
        if labels is None:
            raise ValueError("this model is class-conditional (model.labels) but the data has no labels: "
                             "set datamodule.dataset.labels")
        if not self.training:
            return x, WithLabels(self.network, labels)
        classes = labels if self.network.reads_classes else None  # the true classes, before dropping
        return x, WithLabels(self.network, drop_labels(labels, self.cfg_dropout, self.network.num_classes), classes)

    def encode_batch(self, batch: torch.Tensor) -> torch.Tensor:
        """Encode a data batch, checking it has the shape the model was built for."""
        x = self.representation.encode(batch)
        expected = self.representation.tensor_shape()
        if tuple(x.shape[1:]) != tuple(expected):
            raise ValueError(
                f"a batch encodes to {tuple(x.shape[1:])} but the model expects {tuple(expected)}: the data does not "
                f"match the representation (audio.length must be {self.representation.length} samples here; "
                "mel image folders must match model.representation.x_res / y_res)"
            )
        return x

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, network = self.batch_network(batch)
        if self.null_copies:
            network = network.with_null_copies(self.null_copies)
            loss = self.process.loss(network, x, self.null_copies)
        else:
            loss = self.process.loss(network, x)
        self.log("train/loss", loss, prog_bar=True, batch_size=x.shape[0])
        if isinstance(network, WithLabels) and network.classifier_loss is not None:
            self.log("train/class_loss", network.classifier_loss, batch_size=x.shape[0])
            # only the classifier learns from it, and Adam sizes its steps; kept small so that clipping
            # by the total gradient norm still measures the diffusion loss
            loss = loss + CLASS_LOSS_WEIGHT * network.classifier_loss
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        # Fixed noise per batch makes val/loss comparable between validations, and
        # fork_rng keeps validation from shifting the training RNG stream (exact resume).
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.val_seed + batch_idx)
            x, network = self.batch_network(batch)
            loss = self.process.loss(network, x)
        self.log("val/loss", loss, prog_bar=True, sync_dist=True, batch_size=x.shape[0])

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Runs before Lightning loads the weights: a run started before the process layer resumes.
        upgrade_checkpoint(checkpoint)

    def make_sampler(self, sampler: str | None = None, eta: float | None = None,
                     allowed: tuple[str, ...] | None = None, purpose: str = "") -> Sampler:
        """`sampler` (default: the model's) with `eta` (default: the model's, for its own sampler)."""
        if sampler is None:
            return make_sampler(self.sampler, self.process, self.eta if eta is None else eta, allowed, purpose)
        return make_sampler(sampler, self.process, eta, allowed, purpose)

    def noise(self, num_samples: int, generator: torch.Generator | None = None,
              length: int | None = None) -> torch.Tensor:
        """Unit Gaussian model tensors, drawn on the CPU: the same seed gives the same noise on any device."""
        shape = (num_samples, *self.representation.tensor_shape(length))
        return torch.randn(shape, generator=generator, device="cpu").to(self.device)

    @torch.no_grad()
    def sample_tensors(self, noise: torch.Tensor, steps: int | None = None, sampler: str | None = None,
                       eta: float | None = None, labels: torch.Tensor | None = None,
                       cfg_scale: float | None = None) -> torch.Tensor:
        """Denoised model tensors; `sampler` / `eta` override the model's defaults; `labels` (one
        class id per item, None: unconditional) are sampled with guidance `cfg_scale`."""
        steps = steps or self.sample_steps
        self.process.check_steps(steps)
        self.network.check_shape(tuple(noise.shape[1:]))
        return sample(self.conditioned(labels, cfg_scale), noise, steps, self.make_sampler(sampler, eta))

    @torch.no_grad()
    def decode_audio(self, x: torch.Tensor) -> torch.Tensor:
        """Audio of clips sampled from noise (the representation's `finish` included)."""
        return self.representation.finish(self.representation.decode(x).float().clamp(-1.0, 1.0))

    @torch.no_grad()
    def generate(self, num_samples: int, steps: int | None = None, generator: torch.Generator | None = None,
                 length: int | None = None, sampler: str | None = None, eta: float | None = None,
                 labels: torch.Tensor | None = None, cfg_scale: float | None = None) -> torch.Tensor:
        """Audio (num_samples, channels, samples) from fresh Gaussian noise."""
        return self.generate_from_noise(self.noise(num_samples, generator, length), steps, sampler, eta,
                                        labels, cfg_scale)

    @torch.no_grad()
    def generate_from_noise(self, noise: torch.Tensor, steps: int | None = None, sampler: str | None = None,
                            eta: float | None = None, labels: torch.Tensor | None = None,
                            cfg_scale: float | None = None) -> torch.Tensor:
        return self.decode_audio(self.sample_tensors(noise, steps, sampler, eta, labels, cfg_scale))


def check_vocabulary(labels: Sequence[str] | None, num_classes: int) -> tuple[str, ...]:
    """The label names as a tuple (empty: unconditional), checked against the network's classes."""
    names = tuple(str(name) for name in labels or ())
    if len(set(names)) != len(names):
        raise ValueError(f"model.labels must be distinct names, got {list(names)}")
    if len(names) != num_classes:
        raise ValueError(f"model.labels has {len(names)} labels but model.network.num_classes={num_classes}; "
                         "they must agree (train.py sets both from the data's labels)")
    return names


def check_null_copies(copies: int, labels: tuple[str, ...], process: Process) -> int:
    """model.null_copies, checked: a count, on a class-conditional model, with a process that takes them."""
    if copies < 0:
        raise ValueError(f"model.null_copies must be 0 (off) or a number of items per batch, got {copies}")
    if copies and not labels:
        raise ValueError("model.null_copies trains the null label of a class-conditional model, but this one has no "
                         "labels: set datamodule.dataset.labels, or model.null_copies=0")
    if copies and not process.takes_null_copies:
        raise ValueError(f"model.null_copies is not supported by the {process.name} process "
                         "(v_cosine and rectified_flow support it): set model.null_copies=0")
    return copies
