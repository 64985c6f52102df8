"""The positional ONNX weight import refuses files that do not fit the module."""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

from ocr_model.networks.onnx_import import WeightMismatch, WeightRecord, copy_records


def conv_record(out_channels=4, in_channels=3, bias=True):
    tensors = {"weight": np.ones((out_channels, in_channels, 3, 3), np.float32)}
    if bias:
        tensors["bias"] = np.arange(out_channels, dtype=np.float32)
    return WeightRecord("conv", tensors, where="conv2d_0.w_0")


def test_copies_in_order():
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.LayerNorm(4, eps=1e-6))
    norm = WeightRecord("layer_norm", {"weight": np.full(4, 2, np.float32), "bias": np.zeros(4, np.float32)}, eps=1e-6)
    copy_records(module, [conv_record(), norm])
    assert module[0].bias.tolist() == [0, 1, 2, 3] and module[1].weight.tolist() == [2, 2, 2, 2]


@pytest.mark.parametrize(
    "module, records, message",
    [
        (nn.Sequential(nn.Conv2d(3, 4, 3)), [conv_record(), conv_record()], "2 weight layers, the module 1"),
        (nn.Sequential(nn.Conv2d(3, 5, 3)), [conv_record()], r"0.weight: shape \(5, 3, 3, 3\) in the module, \(4, 3, 3, 3\)"),
        (nn.Sequential(nn.Conv2d(3, 4, 3, bias=False)), [conv_record()], "has \\['weight'\\]"),
        (nn.Sequential(nn.Linear(3, 4)), [conv_record()], "has a linear"),
        (
            nn.Sequential(nn.LayerNorm(4, eps=1e-5)),
            [WeightRecord("layer_norm", {"weight": np.ones(4, np.float32), "bias": np.ones(4, np.float32)}, eps=1e-6)],
            "eps",
        ),
    ],
)
def test_mismatches_are_named(module, records, message):
    with pytest.raises(WeightMismatch, match=message):
        copy_records(module, records)
