"""Building blocks shared by the detector, the recognizer and the orientation classifier.

`ConvNormAct` is one convolution with an optional BatchNorm and activation: the PP-OCRv6 exports ship
most convolutions with their BatchNorm already folded in (a conv with a bias and no norm), the older
orientation classifier keeps its BatchNorms. `fuse_batch_norms` folds the remaining ones in place for
inference.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn


def hard_sigmoid(x: torch.Tensor, slope: float) -> torch.Tensor:
    """clamp(slope * x + 0.5, 0, 1). Paddle uses two slopes: 1/6 (torch's F.hardsigmoid) in the
    PPLCNetV4 backbone and 0.2 in the detector neck and MobileNetV3; swapping them costs 7e-4."""
    if slope == 1.0 / 6.0:
        return F.hardsigmoid(x)
    return torch.clamp(x * slope + 0.5, 0.0, 1.0)


def check_images(x: torch.Tensor, network: str) -> None:
    """A clear error for what is not a non-empty (N, 3, H, W) float tensor."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{network} expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"{network} expects a (N, 3, H, W) tensor, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{network} expects a floating point tensor, got {x.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{network} got an empty batch; skip the call when there is nothing to process")


ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "none": lambda x: x,
    "relu": F.relu,
    "gelu": F.gelu,  # exact (erf) GELU: the tanh form costs 5.6e-3 on the recognizer
    "swish": F.silu,
    "hardswish": F.hardswish,
}


# In-place forms, used when no gradient is recorded: one memory pass less per activation
# (measured with the residual add_ below: detector 960x608 559 -> 500 ms, recognizer 16x48x320 969 -> 945 ms,
# thread CPU, 1 thread, under load).
_IN_PLACE: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": F.relu_,
    "hardswish": lambda x: F.hardswish(x, inplace=True),
}


def activate(x: torch.Tensor, act: str) -> torch.Tensor:
    """ACTIVATIONS[act](x), in place when no gradient is recorded and an in-place form exists (`x` is then
    overwritten: only for a tensor nothing else reads)."""
    if act in _IN_PLACE and not torch.is_grad_enabled():
        return _IN_PLACE[act](x)
    return ACTIVATIONS[act](x)


class ConvNormAct(nn.Module):
    """Conv2d -> optional BatchNorm2d -> activation.

    With `norm=False` the conv has a bias (a training-time BatchNorm folded into it)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 1,
        stride: int | tuple[int, int] = 1,
        groups: int = 1,
        norm: bool = False,
        act: str = "none",
        padding: int | tuple[int, int] | None = None,
    ) -> None:
        super().__init__()
        kernel = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        if padding is None:
            padding = (kernel[0] // 2, kernel[1] // 2)
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel, stride=stride, padding=padding, groups=groups, bias=not norm
        )
        self.bn = nn.BatchNorm2d(out_channels) if norm else None
        self.norm = norm  # built with a BatchNorm (still so after fuse_batch_norms folded it away)
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}; expected one of {sorted(ACTIVATIONS)}")
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return activate(x, self.act)


class SqueezeExcite(nn.Module):
    """Channel attention: x * gate(mean(x)), plus x when `residual` (the detector neck's variant)."""

    def __init__(self, channels: int, reduction: int = 4, slope: float = 1.0 / 6.0, residual: bool = False) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, channels // reduction, 1)
        self.expand = nn.Conv2d(channels // reduction, channels, 1)
        self.slope = slope
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = x.mean(dim=(2, 3), keepdim=True)
        gate = hard_sigmoid(self.expand(F.relu(self.reduce(gate))), self.slope)
        return x * (gate + 1.0) if self.residual else x * gate


_WEIGHT_LAYER_KINDS: tuple[tuple[type[nn.Module], str], ...] = (
    (nn.ConvTranspose2d, "conv_transpose"),
    (nn.Conv2d, "conv"),
    (nn.BatchNorm2d, "batch_norm"),
    (nn.Linear, "linear"),
    (nn.LayerNorm, "layer_norm"),
)


def layer_kind(module: nn.Module) -> str | None:
    """The kind of weight-bearing layer `module` is (as onnx_import matches them), None for others."""
    for cls, kind in _WEIGHT_LAYER_KINDS:
        if isinstance(module, cls):
            return kind
    return None


def same_pad(x: torch.Tensor, value: float = 0.0) -> torch.Tensor:
    """Paddle's "SAME" padding for a 2x2 stride-1 window: one row/column at the bottom/right only."""
    return F.pad(x, (0, 1, 0, 1), value=value)


def same_max_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    """2x2 stride-1 max pool with Paddle's "SAME" padding (bottom/right): the output has x's shape.

    Without a gradient it is two passes of shifted maxima, rows then columns, each an exact max of the same
    values: on channels-last bfloat16 maps torch's max_pool2d (which also computes indices) took 3.5-4x as
    long (detection stem 1x24x352x480: 13.0 -> 3.6 ms; recognition stem 32x48x24x200: 38 -> 10 ms; thread
    CPU, 1 thread). Training keeps max_pool2d, whose gradient goes to one element of a tie."""
    if torch.is_grad_enabled():
        return F.max_pool2d(same_pad(x, float("-inf")), 2, stride=1)
    rows = torch.empty_like(x)
    torch.maximum(x[:, :, :-1], x[:, :, 1:], out=rows[:, :, :-1])
    rows[:, :, -1:] = x[:, :, -1:]  # the padded row is -inf: the last row is its own maximum
    pooled = torch.empty_like(x)
    torch.maximum(rows[:, :, :, :-1], rows[:, :, :, 1:], out=pooled[:, :, :, :-1])
    pooled[:, :, :, -1:] = rows[:, :, :, -1:]
    return pooled


@torch.no_grad()
def fold_batch_norm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Fold an eval-mode BatchNorm into `conv` in place (the conv gains a bias)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
    bias = bn.bias - bn.running_mean * scale
    if conv.bias is not None:
        bias = bias + conv.bias * scale
        conv.bias.copy_(bias)
    else:
        conv.bias = nn.Parameter(bias.to(conv.weight.dtype), requires_grad=conv.weight.requires_grad)


def batch_norms_folded(module: nn.Module) -> bool:
    """Whether `fuse_batch_norms` has folded this module's BatchNorms (its state dict then differs)."""
    return any(isinstance(layer, ConvNormAct) and layer.norm and layer.bn is None for layer in module.modules())


def fuse_batch_norms(module: nn.Module) -> int:
    """Fold every `ConvNormAct`'s BatchNorm into its conv, in place. Returns how many were folded.

    For inference only: the running statistics are baked in, so do it after training."""
    folded = 0
    for layer in module.modules():
        if isinstance(layer, ConvNormAct) and layer.bn is not None:
            fold_batch_norm(layer.conv, layer.bn)
            layer.bn = None
            folded += 1
    return folded
