"""The PP-OCRv6 text detector: PPLCNetV4 backbone -> RepLKFPN neck -> DB head (probability branch).

    (N, 3, H, W) normalised BGR, H and W multiples of 32 -> (N, 1, H, W) logits (sigmoid outside)

The DB threshold branch, needed only for DB's training loss, is not in the shipped files.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .backbone import BackboneConfig, PPLCNetV4, StageConfig
from .layers import ConvNormAct, SqueezeExcite, activate, check_images, layer_kind

STRIDE = 32  # five halvings: H and W must be multiples of this
NECK_SLOPE = 0.2  # the neck's hardsigmoid slope (the backbone's is 1/6)


@dataclass(frozen=True)
class DetectorConfig:
    backbone: BackboneConfig
    neck_channels: int = 96  # lateral width; each level then contributes neck_channels // 4
    large_kernel: int = 7  # the per-level depthwise kernel (training-time dilated branches folded in)
    head_channels: int = 24


PPOCRV6_SMALL = DetectorConfig(
    backbone=BackboneConfig(
        stem_channels=24,
        out_stem=48,
        stages=(
            StageConfig(48, 2, (1, 1), se=(0,)),
            StageConfig(96, 3, (2, 2), se=(1,)),
            StageConfig(192, 5, (2, 2), se=(1, 3)),
            StageConfig(384, 3, (2, 2), se=(1,)),
        ),
    ),
)


PPOCRV6_TINY = DetectorConfig(
    backbone=BackboneConfig(
        stem_channels=16,
        out_stem=32,
        stages=(
            StageConfig(32, 2, (1, 1), se=(0,)),
            StageConfig(48, 3, (2, 2), se=(1,)),
            StageConfig(64, 5, (2, 2), se=(1, 3)),
            StageConfig(160, 3, (2, 2), se=(1,)),
        ),
    ),
    neck_channels=64,
    large_kernel=5,
    head_channels=16,
)


class Lateral(nn.Module):
    """1x1 conv without bias, then a residual squeeze-excite (slope 0.2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.se = SqueezeExcite(out_channels, 4, NECK_SLOPE, residual=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.se(self.conv(x))


class LevelHead(nn.Module):
    """Large-kernel depthwise conv, 1x1 conv without bias to a quarter width, residual squeeze-excite."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.depthwise = ConvNormAct(channels, channels, kernel, groups=channels)
        self.conv = nn.Conv2d(channels, channels // 4, 1, bias=False)
        self.se = SqueezeExcite(channels // 4, 4, NECK_SLOPE, residual=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.se(self.conv(self.depthwise(x)))


class RepLKFPN(nn.Module):
    """Top-down FPN: laterals, p_i = lateral_i + up2(p_{i+1}), a `LevelHead` per level, then all four
    upsampled to stride 4 and concatenated (deepest first). `lateral[i]` / `levels[i]` is stride 4 * 2**i."""

    def __init__(self, in_channels: list[int], channels: int, kernel: int) -> None:
        super().__init__()
        self.lateral = nn.ModuleList(Lateral(width, channels) for width in in_channels)
        self.levels = nn.ModuleList(LevelHead(channels, kernel) for _ in in_channels)

    def weight_layers_order(self) -> list[nn.Module]:
        """The export walks laterals and levels from the deepest."""
        return [*reversed(self.lateral), *reversed(self.levels)]

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        count = len(features)
        if count != len(self.lateral):
            raise ValueError(f"the neck takes {len(self.lateral)} feature maps (strides 4 to 32), got {count}")
        # Deepest level first; each level's head runs as soon as its sum is final, and only the sum the next
        # level adds is kept. Why: memory: holding every level's sum until all heads had run kept the stride-4
        # sum (the neck's largest map) beside everything after it.
        deepest_first: list[torch.Tensor] = []
        deeper: torch.Tensor | None = None
        for index in range(count - 1, -1, -1):
            merged = self.lateral[index](features[index])
            if deeper is not None:
                # in place: add's gradient needs neither value
                merged = merged.add_(F.interpolate(deeper, scale_factor=2.0, mode="nearest"))
            deepest_first.append(self.levels[index](merged))
            deeper = merged
        del merged, deeper
        # Every level at stride 4, deepest first (the exported graph's order), written into one map instead of
        # upsampled copies that a concatenation then copies again.
        finest = deepest_first[-1]
        width = finest.shape[1]
        result = torch.empty(
            (finest.shape[0], width * count, *finest.shape[2:]),
            dtype=finest.dtype,
            device=finest.device,
            memory_format=_memory_format_of(finest),
        )
        for position, output in enumerate(deepest_first):
            scale = 2 ** (count - 1 - position)
            upsampled = F.interpolate(output, scale_factor=float(scale), mode="nearest") if scale > 1 else output
            result[:, position * width : (position + 1) * width].copy_(upsampled)
        return result


def _memory_format_of(x: torch.Tensor) -> torch.memory_format:
    """channels-last when `x` is laid out so (and not merely also contiguous), else contiguous."""
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return torch.channels_last
    return torch.contiguous_format


class DBHead(nn.Module):
    """Probability branch: 3x3 conv + ReLU, 2x2 stride-2 transposed conv + ReLU, 2x2 stride-2 transposed conv."""

    def __init__(self, in_channels: int, channels: int) -> None:
        super().__init__()
        self.conv = ConvNormAct(in_channels, channels, 3, act="relu")
        self.up1 = nn.ConvTranspose2d(channels, channels, 2, stride=2)
        self.up2 = nn.ConvTranspose2d(channels, 1, 2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up2(activate(self.up1(self.conv(x)), "relu"))


class Detector(nn.Module):
    """(N, 3, H, W) -> (N, 1, H, W) text logits. The input is cast to the weights' dtype."""

    def __init__(self, config: DetectorConfig = PPOCRV6_SMALL) -> None:
        super().__init__()
        self.config = config
        self.backbone = PPLCNetV4(config.backbone)
        self.neck = RepLKFPN(self.backbone.out_channels, config.neck_channels, config.large_kernel)
        self.head = DBHead(config.neck_channels, config.head_channels)
        self.memory_format = torch.contiguous_format

    def weight_layers(self) -> list[tuple[str, nn.Module]]:
        """Weight layers in the exported graph's order (the neck walks from the deepest level)."""
        names = {module: name for name, module in self.named_modules()}
        ordered = [self.backbone, *self.neck.weight_layers_order(), self.head]
        return [
            (names[layer], layer) for part in ordered for layer in part.modules() if layer_kind(layer) is not None
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "the detector")
        height, width = x.shape[2:]
        if height % STRIDE or width % STRIDE or height == 0 or width == 0:
            raise ValueError(f"the detector needs H and W to be positive multiples of {STRIDE}, got {height}x{width}")
        x = x.to(dtype=self.head.up2.weight.dtype, memory_format=self.memory_format)
        return self.head(self.neck(self.backbone(x)))
