"""AudioDiffusionModule with labels: dropout to the null label, guidance, and a model that learns
two classes apart."""

from __future__ import annotations

import functools

import pytest
import torch

from src.models.diffusion_module import AudioDiffusionModule
from src.networks.unetv0 import UNetV0Network
from src.processes.edm import EDMProcess
from src.processes.v_cosine import VCosineProcess
from src.representations.waveform import WaveformRepresentation

LENGTH = 64
pytestmark = pytest.mark.filterwarnings("ignore:You are trying to `self.log\\(\\)`")


def module(cfg_dropout=0.1, cfg_scale=2.0, labels=("down", "up"), null_copies=0, null_from_input=False):
    network = UNetV0Network(in_channels=1, channels=[16, 16], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                            attention_heads=2, attention_features=8, modulation_features=32,
                            num_classes=len(labels), null_from_input=null_from_input)
    return AudioDiffusionModule(WaveformRepresentation(8000, 1, LENGTH), network, VCosineProcess(),
                                functools.partial(torch.optim.Adam, lr=3e-3), labels=labels,
                                cfg_dropout=cfg_dropout, cfg_scale=cfg_scale, null_copies=null_copies)


def batch(n=16):
    """Class 0 holds -0.5 everywhere, class 1 +0.5."""
    labels = torch.arange(n) % 2
    return (labels.float() - 0.5).view(n, 1, 1).expand(n, 1, LENGTH).clone(), labels


def test_dropout_sends_the_null_label_and_validation_keeps_the_labels():
    seen = []
    model = module(cfg_dropout=1.0)
    model.network.register_forward_pre_hook(lambda net, args: seen.append(args[2].clone()))
    model.train()
    model.training_step(batch(4), 0)
    assert torch.equal(seen[-1], torch.full((4,), 2))  # every label dropped to the null class
    model.eval()
    model.validation_step(batch(4), 0)
    assert torch.equal(seen[-1], torch.tensor([0, 1, 0, 1]))


def test_vocabulary_and_class_count_must_agree():
    with pytest.raises(ValueError, match="model.labels has 3 labels but model.network.num_classes=2"):
        AudioDiffusionModule(WaveformRepresentation(8000, 1, LENGTH), module().network, VCosineProcess(),
                             torch.optim.Adam, labels=("a", "b", "c"))
    with pytest.raises(ValueError, match="data has no labels"):
        module().training_step(batch(4)[0], 0)


def test_null_copies_denoise_the_first_items_again_under_the_null_label():
    seen = []
    model = module(cfg_dropout=0.0, null_copies=2)
    model.network.register_forward_pre_hook(
        lambda net, args: seen.append((args[0].shape[0], None if args[2] is None else args[2].tolist())))
    model.train()
    model.training_step(batch(4), 0)
    assert seen == [(6, [0, 1, 0, 1, 2, 2])]  # one call: the batch, then its first two items under the null label
    model.eval()
    model.validation_step(batch(4), 0)  # validation scores the batch alone
    assert seen[1:] == [(4, [0, 1, 0, 1])]


def test_null_copies_need_labels_and_a_process_that_takes_them():
    network = module().network
    with pytest.raises(ValueError, match="has no labels"):
        AudioDiffusionModule(WaveformRepresentation(8000, 1, LENGTH), module(labels=()).network, VCosineProcess(),
                             torch.optim.Adam, null_copies=2)
    with pytest.raises(ValueError, match="not supported by the edm process"):
        AudioDiffusionModule(WaveformRepresentation(8000, 1, LENGTH), network, EDMProcess(), torch.optim.Adam,
                             labels=("down", "up"), null_copies=2)
    with pytest.raises(ValueError, match="model.null_copies must be 0"):
        module(null_copies=-1)


@pytest.mark.parametrize("cfg_dropout, null_copies", [(0.1, 0), (0.0, 4)])
def test_a_conditional_model_learns_its_classes_apart(cfg_dropout, null_copies):
    torch.manual_seed(0)
    model = module(cfg_dropout=cfg_dropout, null_copies=null_copies)
    optimizer = model.configure_optimizers()
    model.train()
    for step in range(150):
        optimizer.zero_grad()
        model.training_step(batch(), step).backward()
        optimizer.step()
    model.eval()
    noise = torch.randn(8, 1, LENGTH, generator=torch.Generator().manual_seed(1))
    means = {}
    for name, label in (("down", 0), ("up", 1)):
        audio = model.generate_from_noise(noise, steps=10, labels=torch.full((8,), label))
        means[name] = audio.mean(dim=(1, 2))
    assert (means["down"] < -0.2).all() and (means["up"] > 0.2).all(), means
    unconditional = model.generate_from_noise(noise, steps=10).mean(dim=(1, 2))
    # the null label learned both classes: from dropped labels, or from the labelled predictions alone
    assert (unconditional > 0.1).any() and (unconditional < -0.1).any()


def loud_and_quiet(n=16):
    """Class 0 is noise at 0.05, class 1 noise at 0.8: told apart by their level."""
    labels = torch.arange(n) % 2
    return torch.randn(n, 1, LENGTH) * (0.05 + 0.75 * labels.float()).view(n, 1, 1), labels


def test_training_fits_the_null_labels_classifier_to_the_true_classes():
    torch.manual_seed(0)
    model = module(cfg_dropout=0.5, null_from_input=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(80):
        optimizer.zero_grad()
        model.training_step(loud_and_quiet(), 0).backward()
        optimizer.step()
    clean, labels = loud_and_quiet(32)
    t = torch.full((32,), 0.3)
    alpha, sigma = model.process.alpha_sigma(t)
    noisy = alpha.view(-1, 1, 1) * model.encode_batch(clean) + sigma.view(-1, 1, 1) * torch.randn(32, 1, LENGTH)
    assert torch.equal(model.network.null_head(noisy, t).argmax(dim=1), labels)


def test_the_class_loss_is_added_in_training_only():
    model = module(null_from_input=True, null_copies=2)
    model.train()
    torch.manual_seed(1)
    total = model.training_step(loud_and_quiet(4), 0)
    torch.manual_seed(1)
    x, network = model.batch_network(loud_and_quiet(4))
    network = network.with_null_copies(2)
    diffusion = model.process.loss(network, x, 2)
    assert network.classifier_loss is not None and network.classifier_loss > 0
    torch.testing.assert_close(total, diffusion + 0.01 * network.classifier_loss)
    model.eval()
    assert model.batch_network(loud_and_quiet(4))[1].classes is None
    assert module().train().batch_network(loud_and_quiet(4))[1].classes is None  # a network without the classifier
