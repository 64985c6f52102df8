"""BatchNorm folding keeps a layer's outputs."""

from __future__ import annotations

import torch

from ocr_model.networks.layers import ConvNormAct, fuse_batch_norms, hard_sigmoid


def test_folding_keeps_the_outputs():
    torch.manual_seed(0)
    layer = ConvNormAct(3, 8, 3, stride=2, groups=1, norm=True, act="hardswish")
    layer.train()
    for _ in range(3):  # give the BatchNorm non-trivial running statistics
        layer(torch.randn(4, 3, 16, 16) * 2 + 1)
    layer.eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        before = layer(x)
        assert fuse_batch_norms(layer) == 1
        after = layer(x)
    assert layer.bn is None and layer.conv.bias is not None
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


def test_hard_sigmoid_slopes_differ():
    x = torch.tensor([-4.0, -1.0, 0.0, 1.0, 2.4])
    torch.testing.assert_close(hard_sigmoid(x, 1 / 6), torch.tensor([0.0, 1 / 3, 0.5, 2 / 3, 0.9]))
    torch.testing.assert_close(hard_sigmoid(x, 0.2), torch.tensor([0.0, 0.3, 0.5, 0.7, 0.98]))
