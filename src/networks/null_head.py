"""The null label read off the noisy input.

A class-conditional network learns one embedding per class plus one for the null label, and the
null label's single vector must serve every class at once: the network then has to infer from
the noisy input alone what kind of sound it is making, everywhere in the clip. `NullFromInput`
replaces that vector by a mixture of all the embeddings (the null one included), weighted by a
small head that reads each input channel's overall level and the noise level. Trained through
the diffusion loss of the items whose label was dropped, it learns to pick a class's embedding
once the input shows that class, and to keep the null vector while it cannot."""

from __future__ import annotations

import torch
from torch import nn

from src.networks.base import local_power

# the same log floor as the level features: 40 dB under the data's unit level
LEVEL_FLOOR = 1e-4


class NullFromInput(nn.Module):
    """Mixing weights over `classes` + 1 embeddings (the last is the null label's) for a batch of
    noisy inputs. The head starts at zero, so before training every item gets the embeddings'
    plain average."""

    def __init__(self, channels: int, classes: int, hidden: int = 128, window: int = 5) -> None:
        super().__init__()
        if channels < 1 or classes < 1 or hidden < 1:
            raise ValueError(f"NullFromInput needs positive channels, classes and hidden, got {channels}, {classes}, {hidden}")
        self.window = window
        self.head = nn.Sequential(nn.Linear(2 * channels + 1, hidden), nn.SiLU(), nn.Linear(hidden, classes + 1))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def summary(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        """(batch, 2 * channels + 1): each channel's log mean power and log peak local power over
        the clip, and the noise level."""
        power = local_power(x.float(), self.window).flatten(2)
        mean = (power.mean(dim=-1) + LEVEL_FLOOR).log()
        peak = (power.amax(dim=-1) + LEVEL_FLOOR).log()
        return torch.cat([0.25 * mean, 0.25 * peak, c_noise.float().reshape(-1, 1)], dim=1)

    def forward(self, x: torch.Tensor, c_noise: torch.Tensor) -> torch.Tensor:
        return self.head(self.summary(x, c_noise)).softmax(dim=-1)


def null_from_input(embedding: nn.Embedding, head: NullFromInput, ids: torch.Tensor, x: torch.Tensor,
                    c_noise: torch.Tensor) -> torch.Tensor:
    """The class features of `ids` (class ids; the last id is the null label), with each null
    item's vector replaced by the head's mixture for its input. Mixing weights (interpolation)
    are passed through unchanged."""
    if ids.is_floating_point():
        return embedding(ids)
    features = embedding(ids)
    null = ids == embedding.num_embeddings - 1
    if not bool(null.any()):
        return features
    mixed = head(x, c_noise).to(embedding.weight.dtype) @ embedding.weight
    return torch.where(null[:, None], mixed, features)
