"""Low-memory fine-tuning of any network: LoRA adapters through peft, frozen blocks, and the
adapters' own small state (saved apart from the base weights, loadable onto the base, mergeable).

peft (pinned in pyproject) adapts Conv1d, Conv2d and Linear layers here: in UNetV0 its Conv1d
convolutions and the attention's Linear projections, in UNet2DModel its Conv2d convolutions and the
Linear attention and time-embedding projections. By default every such layer of the network is
adapted; `target` narrows it to layer names matching any of its regular expressions."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from peft import LoraConfig, inject_adapter_in_model
from peft.tuners.lora import LoraLayer
from torch import nn

ADAPTED = (nn.Conv1d, nn.Conv2d, nn.Linear)


@dataclass
class LoraSettings:
    rank: int = 0                      # 0: no adapters (every weight trains)
    alpha: float = 16.0                # adapter scale is alpha / rank
    dropout: float = 0.0               # dropout on the adapter's input
    target: list[str] | None = None    # regular expressions of layer names; None: every Conv/Linear layer

    def __post_init__(self) -> None:
        if self.rank < 0 or self.alpha <= 0 or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"finetune.lora needs rank >= 0, alpha > 0 and dropout in [0, 1), got {asdict(self)}")


@dataclass
class FinetuneSettings:
    lora: LoraSettings = field(default_factory=LoraSettings)
    freeze: list[str] = field(default_factory=list)  # regular expressions of parameter names kept frozen

    @classmethod
    def from_config(cls, config: dict | None) -> FinetuneSettings:
        config = dict(config or {})
        unknown = set(config) - {"lora", "freeze"}
        if unknown:
            raise ValueError(f"finetune has no setting {sorted(unknown)}; it takes lora and freeze")
        return cls(LoraSettings(**dict(config.get("lora") or {})), list(config.get("freeze") or []))


def adapted_layers(network: nn.Module, target: list[str] | None) -> list[str]:
    """Names of the layers that get adapters; an error when the patterns match none."""
    names = [name for name, module in network.named_modules() if isinstance(module, ADAPTED)
             and (target is None or any(re.search(pattern, name) for pattern in target))]
    if not names:
        raise ValueError(f"finetune.lora.target={target} matches no Conv1d, Conv2d or Linear layer of the network")
    return names


def add_lora(network: nn.Module, settings: LoraSettings) -> None:
    """LoRA adapters on the chosen layers, in place; every other weight is frozen but the class
    embedding (a few vectors), which trains too, so labels new to the base can be learned."""
    config = LoraConfig(r=settings.rank, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=adapted_layers(network, settings.target))
    inject_adapter_in_model(config, network)
    for name, parameter in network.named_parameters():
        parameter.requires_grad = trained_with_adapters(name)


def freeze(network: nn.Module, patterns: list[str]) -> list[str]:
    """Freeze the parameters whose names match any pattern; their names (an error if none match)."""
    frozen = [name for name, _ in network.named_parameters() if any(re.search(p, name) for p in patterns)]
    if patterns and not frozen:
        raise ValueError(f"finetune.freeze={patterns} matches no parameter of the network")
    for name, parameter in network.named_parameters():
        if name in frozen:
            parameter.requires_grad = False
    return frozen


def trained_with_adapters(name: str) -> bool:
    """Whether a network tensor trains under LoRA: the adapters and the class embedding."""
    return "lora_" in name or "class_embedding" in name


def merge_lora(network: nn.Module) -> None:
    """Fold every adapter into its base layer and put the plain layer back: the network is then
    the base architecture again, with merged weights."""
    for name, module in list(network.named_modules()):
        if isinstance(module, LoraLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            parent = network.get_submodule(parent_name) if parent_name else network
            setattr(parent, child, module.get_base_layer())
