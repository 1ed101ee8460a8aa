import pytest

from src.training.trainer_setup import DeviceConfigError, translate_gpus

BASE = {"accelerator": "auto", "devices": "auto", "precision": "32-true"}


@pytest.mark.parametrize(
    ("gpus", "cuda_count", "accelerator", "devices"),
    [
        (None, 0, "auto", "auto"),
        (0, 0, "cpu", "auto"),
        (0, 4, "cpu", "auto"),
        (1, 1, "gpu", 1),
        (2, 4, "gpu", 2),
        (-1, 4, "gpu", -1),
        ("1", 2, "gpu", 1),
        ([0, 2], 4, "gpu", [0, 2]),
    ],
)
def test_gpus_maps_to_accelerator_and_devices(gpus, cuda_count, accelerator, devices):
    out = translate_gpus({**BASE, "gpus": gpus}, cuda_count=cuda_count)
    assert "gpus" not in out
    assert (out["accelerator"], out["devices"]) == (accelerator, devices)


@pytest.mark.parametrize("gpus", [1, -1, [0]])
def test_asking_for_a_gpu_without_one_is_a_clear_error(gpus):
    with pytest.raises(DeviceConfigError, match="trainer.gpus=0"):
        translate_gpus({**BASE, "gpus": gpus}, cuda_count=0)


def test_more_gpus_than_present_is_an_error():
    with pytest.raises(DeviceConfigError, match="has 2"):
        translate_gpus({**BASE, "gpus": 4}, cuda_count=2)


def test_explicit_gpu_accelerator_without_gpu_is_an_error():
    with pytest.raises(DeviceConfigError, match="no CUDA GPU"):
        translate_gpus({**BASE, "accelerator": "gpu", "devices": 1}, cuda_count=0)


def test_half_precision_falls_back_on_cpu_only():
    cpu = translate_gpus({**BASE, "gpus": 0, "precision": "16-mixed"}, cuda_count=1)
    assert cpu["precision"] == "32-true"
    gpu = translate_gpus({**BASE, "gpus": 1, "precision": "16-mixed"}, cuda_count=1)
    assert gpu["precision"] == "16-mixed"
    bf16 = translate_gpus({**BASE, "gpus": 0, "precision": "bf16-mixed"}, cuda_count=0)
    assert bf16["precision"] == "bf16-mixed"


def test_ddp_settings_pass_through():
    out = translate_gpus({**BASE, "accelerator": "cpu", "devices": 2, "strategy": "ddp"}, cuda_count=0)
    assert (out["devices"], out["strategy"]) == (2, "ddp")
