"""NullFromInput: the null label's embedding from a classifier of the noisy input."""

import pytest
import torch

from src.networks.base import ClassEmbedding
from src.networks.conditioning import WithLabels
from src.networks.null_head import NullFromInput, null_from_input
from src.networks.unetv0 import UNetV0Network

CLASSES = 3


def tiny(null_from_input: bool) -> UNetV0Network:
    torch.manual_seed(0)
    return UNetV0Network(in_channels=2, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                         modulation_features=16, num_classes=CLASSES, null_from_input=null_from_input)


def test_an_untrained_head_gives_the_null_items_the_average_of_the_class_vectors():
    torch.manual_seed(0)
    embedding, head = ClassEmbedding(CLASSES + 1, 8), NullFromInput(channels=2, classes=CLASSES)
    ids = torch.tensor([0, 3, 2, 3])
    features = null_from_input(embedding, head, ids, torch.randn(4, 2, 16), torch.rand(4))
    torch.testing.assert_close(features[[0, 2]], embedding.weight[[0, 2]])
    torch.testing.assert_close(features[[1, 3]], embedding.weight[:CLASSES].mean(0).expand(2, -1))


def test_the_head_follows_the_input_level_and_the_noise_level():
    torch.manual_seed(0)
    head = NullFromInput(channels=2, classes=CLASSES)
    torch.nn.init.normal_(head.head[-1].weight)
    quiet, loud = 0.01 * torch.randn(1, 2, 16), torch.randn(1, 2, 16)
    t = torch.tensor([0.5])
    assert not torch.allclose(head(quiet, t), head(loud, t))
    assert not torch.allclose(head(loud, t), head(loud, torch.tensor([0.9])))
    torch.testing.assert_close(head(loud, t).sum(), torch.tensor(1.0))
    torch.testing.assert_close(head(loud.expand(2, -1, -1), torch.tensor(0.5)), head(loud, t).expand(2, -1))


def test_mixing_weights_pass_through_unchanged():
    embedding, head = ClassEmbedding(CLASSES + 1, 8), NullFromInput(channels=2, classes=CLASSES)
    weights = torch.tensor([[0.25, 0.0, 0.0, 0.75]])
    torch.testing.assert_close(null_from_input(embedding, head, weights, torch.randn(1, 2, 16), torch.rand(1)),
                               weights @ embedding.weight)


def test_the_class_loss_trains_the_head_and_the_diffusion_loss_never_does():
    net = tiny(null_from_input=True)
    x, t = torch.randn(2, 2, 16), torch.rand(2)
    net(x, t, torch.tensor([0, CLASSES])).square().sum().backward()
    assert all(p.grad is None for p in net.null_head.parameters())
    assert net.class_embedding.weight.grad[:CLASSES].abs().sum() > 0  # the mix still trains the class vectors
    net.class_loss(x, t, torch.tensor([0, 2])).backward()
    assert net.null_head.head[-1].weight.grad.abs().sum() > 0


def test_with_labels_scores_the_classifier_on_the_true_classes_and_leaves_out_copies():
    net = tiny(null_from_input=True)
    x, t, classes = torch.randn(2, 2, 16), torch.rand(2), torch.tensor([1, 2])
    bound = WithLabels(net, torch.tensor([1, CLASSES]), classes).with_null_copies(1)
    bound(torch.cat([x, x[:1]]), torch.cat([t, t[:1]]))
    torch.testing.assert_close(bound.classifier_loss, net.class_loss(x, t, classes))
    plain = WithLabels(net, classes)
    plain(x, t)
    assert plain.classifier_loss is None


def test_labelled_items_are_those_of_the_network_without_the_head():
    with_head, without = tiny(null_from_input=True), tiny(null_from_input=False)
    without.load_state_dict({k: v for k, v in with_head.state_dict().items() if not k.startswith("null_head.")})
    x, t, ids = torch.randn(2, 2, 16), torch.rand(2), torch.tensor([0, 2])
    torch.testing.assert_close(with_head(x, t, ids), without(x, t, ids))
    assert not any(k.startswith("null_head.") for k in without.state_dict())
    with pytest.raises(NotImplementedError, match="reads_classes"):
        without.class_loss(x, t, ids)


def test_the_head_needs_classes():
    with pytest.raises(ValueError, match="null_from_input.*num_classes"):
        UNetV0Network(in_channels=2, channels=[8, 8], factors=[1, 2], items=[1, 1], attentions=[0, 0],
                      modulation_features=16, null_from_input=True)
