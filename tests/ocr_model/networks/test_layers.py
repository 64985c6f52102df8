"""BatchNorm folding keeps a layer's outputs; the stem's max pool without a gradient equals the padded max_pool2d."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ocr_model.networks.layers import ConvNormAct, fuse_batch_norms, hard_sigmoid, same_max_pool_2x2, same_pad


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


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("shape", [(2, 5, 7, 9), (1, 3, 1, 6), (1, 2, 6, 1), (3, 4, 2, 2)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_same_max_pool_equals_padded_max_pool(dtype, shape, channels_last):
    torch.manual_seed(1)
    x = torch.randn(*shape).to(dtype)
    x[0, 0, 0, :2] = 7.0  # a tie inside one window
    x[-1, -1, -1, -1] = float("nan")  # NaN spreads to every window holding it, as in max_pool2d
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    expected = F.max_pool2d(same_pad(x, float("-inf")), 2, stride=1)
    with torch.inference_mode():
        pooled = same_max_pool_2x2(x)
    assert pooled.shape == x.shape and pooled.dtype == dtype
    torch.testing.assert_close(pooled, expected, rtol=0, atol=0, equal_nan=True)
    if channels_last:  # the next conv gets the layout it was given (no conversion copy)
        assert pooled.is_contiguous(memory_format=torch.channels_last)


def test_same_max_pool_keeps_max_pool_gradient_when_training():
    # max_pool2d sends a tie's gradient to one element; torch.maximum would split it in halves
    x = torch.tensor([[[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]], requires_grad=True)
    same_max_pool_2x2(x).sum().backward()
    reference = x.detach().clone().requires_grad_()
    F.max_pool2d(same_pad(reference, float("-inf")), 2, stride=1).sum().backward()
    assert torch.equal(x.grad, reference.grad)
    assert set(x.grad.flatten().tolist()) <= {0.0, 1.0, 2.0, 3.0, 4.0}  # whole units: no split tie
