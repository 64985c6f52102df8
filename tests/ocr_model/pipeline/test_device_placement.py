"""Every tensor the networks make lives on the input's device: checked without a GPU.

The networks are moved to the ``meta`` device (shapes and dtypes, no data) and run there under a
dispatch mode that records every operator whose output is on another device. A tensor made on
the CPU inside ``forward`` (what broke CUDA: ``Shape`` made a CPU tensor that ``Concat`` joined
with the moved constants) and any read-back of a device value to the host both fail here.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ocr_model.networks import load_detector, load_orientation_classifier, load_recognizer, prepare_for_inference


class OffDeviceOutputs(TorchDispatchMode):
    """Records every operator call whose tensor outputs are not on `device`."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.device = device
        self.offenders: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in tree_flatten(out)[0]:
            if isinstance(value, torch.Tensor) and value.device != self.device:
                self.offenders.append(f"{func} -> {value.device}")
        return out


@pytest.fixture(scope="module")
def networks():
    # As build_model prepares them for the CPU: BatchNorms folded, channels-last.
    return {
        "detection": prepare_for_inference(load_detector()),
        "recognition": prepare_for_inference(load_recognizer()),
        "orientation": prepare_for_inference(load_orientation_classifier()),
    }


CASES = [
    ("detection", (2, 3, 96, 160), (2, 1, 96, 160)),
    ("recognition", (3, 3, 48, 200), (3, 25, 18710)),
    ("orientation", (2, 3, 48, 192), (2, 2)),
]


@pytest.mark.parametrize("name, input_shape, output_shape", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_networks_run_entirely_on_the_device_of_their_input(networks, name, input_shape, output_shape, dtype):
    network = copy.deepcopy(networks[name]).to(device="meta", dtype=dtype)
    meta = torch.device("meta")
    with torch.inference_mode(), OffDeviceOutputs(meta) as audit:
        output = network(torch.zeros(input_shape, device=meta, dtype=dtype))
    assert audit.offenders == []
    assert output.device == meta and tuple(output.shape) == output_shape and output.dtype == dtype


def test_recognition_greedy_outputs_stay_on_the_device(networks):
    network = copy.deepcopy(networks["recognition"]).to("meta")
    meta = torch.device("meta")
    with torch.inference_mode(), OffDeviceOutputs(meta) as audit:
        logits = network(torch.zeros((2, 3, 48, 96), device=meta))
        best_score, best_class = logits.max(dim=-1)
        probability = torch.exp(best_score - torch.logsumexp(logits, dim=-1))
    assert audit.offenders == []
    assert best_class.shape == probability.shape == (2, 12)


def test_the_audit_catches_a_host_tensor():
    # The check itself must be able to fail: a CPU tensor made next to meta data is reported.
    with torch.inference_mode(), OffDeviceOutputs(torch.device("meta")) as audit:
        torch.zeros(2, device="meta") * 2
        torch.tensor([1, 2], dtype=torch.int64)
    assert audit.offenders and all(offender.endswith("-> cpu") for offender in audit.offenders)


def test_the_device_pipeline_stays_on_the_device_of_the_image(monkeypatch):
    """Detection resize and line sampling of the device pipeline (what runs on a GPU), on the
    meta device: every operator output stays there. The host -> device copies all go through
    crops.upload, replaced here by a shape-only upload to the meta device."""
    import numpy as np

    from ocr_model.pipeline import crops
    from ocr_model.pipeline.crops import line_geometry, sample_lines
    from ocr_model.pipeline.detection import resize_on_device
    from ocr_model.pipeline.lines import DeviceLines

    dtypes = {np.dtype(np.uint8): torch.uint8, np.dtype(np.float32): torch.float32, np.dtype(np.int64): torch.int64}
    monkeypatch.setattr(crops, "upload", lambda array, device: torch.empty(array.shape, dtype=dtypes[array.dtype], device=device))
    quads = [
        np.array([[10, 10], [200, 10], [200, 40], [10, 40]], np.float32),
        np.array([[10, 50], [40, 50], [40, 250], [10, 250]], np.float32),  # vertical
        np.array([[10, 50], [290, 50], [290, 150], [10, 150]], np.float32),  # 100 px tall: supersampled
    ]
    meta = torch.device("meta")
    with torch.inference_mode(), OffDeviceOutputs(meta) as audit:
        image = crops.image_to_device(np.zeros((300, 500, 3), np.uint8), meta)
        other = crops.image_to_device(np.zeros((200, 100, 3), np.uint8), meta)
        detection = resize_on_device(image, 0.5)
        lines = sample_lines(image, [line_geometry(q, 0.08) for q in quads], 48, 320)
        mixed = (DeviceLines([(image, line_geometry(quads[0]))]) + DeviceLines([(other, line_geometry(quads[1]))])).batch(
            [1, 0], 48, 256, meta
        )
    assert audit.offenders == []
    assert tuple(detection.tensor.shape) == (1, 3, 160, 256) and tuple(lines.shape) == (3, 3, 48, 320)
    assert tuple(mixed.shape) == (2, 3, 48, 256) and mixed.device == meta
