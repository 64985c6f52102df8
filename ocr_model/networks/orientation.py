"""The text-line orientation classifier (PP-OCR mobile v2.0 "cls"): a MobileNetV3-small (x0.35).

    (N, 3, 48, 192) normalised BGR -> (N, 2) logits of [0°, 180°] (softmax outside)

Unlike the PP-OCRv6 exports this one keeps its BatchNorms (eps 1e-5); `fuse_batch_norms` folds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .layers import ConvNormAct, SqueezeExcite, check_images

INPUT_SIZE = (48, 192)
SE_SLOPE = 0.2


@dataclass(frozen=True)
class BlockConfig:
    kernel: int
    expanded: int
    channels: int
    se: bool
    act: str
    stride: tuple[int, int]


@dataclass(frozen=True)
class OrientationConfig:
    stem_channels: int
    blocks: tuple[BlockConfig, ...]
    last_channels: int
    num_classes: int = 2


def _blocks(*rows: tuple) -> tuple[BlockConfig, ...]:
    return tuple(BlockConfig(k, e, c, se, act, s) for k, e, c, se, act, s in rows)


PPOCR_MOBILE_V2 = OrientationConfig(
    stem_channels=8,
    blocks=_blocks(
        (3, 8, 8, True, "relu", (2, 1)),
        (3, 24, 8, False, "relu", (2, 1)),
        (3, 32, 8, False, "relu", (1, 1)),
        (5, 32, 16, True, "hardswish", (2, 1)),
        (5, 88, 16, True, "hardswish", (1, 1)),
        (5, 88, 16, True, "hardswish", (1, 1)),
        (5, 40, 16, True, "hardswish", (1, 1)),
        (5, 48, 16, True, "hardswish", (1, 1)),
        (5, 104, 32, True, "hardswish", (2, 1)),
        (5, 200, 32, True, "hardswish", (1, 1)),
        (5, 200, 32, True, "hardswish", (1, 1)),
    ),
    last_channels=200,
)


class InvertedResidual(nn.Module):
    """1x1 expand -> kxk depthwise -> optional SE -> 1x1 project, + input when the shape is kept."""

    def __init__(self, in_channels: int, block: BlockConfig) -> None:
        super().__init__()
        self.expand = ConvNormAct(in_channels, block.expanded, 1, norm=True, act=block.act)
        self.depthwise = ConvNormAct(
            block.expanded, block.expanded, block.kernel, stride=block.stride, groups=block.expanded, norm=True, act=block.act
        )
        self.se = SqueezeExcite(block.expanded, 4, SE_SLOPE) if block.se else None
        self.project = ConvNormAct(block.expanded, block.channels, 1, norm=True)
        self.residual = in_channels == block.channels and tuple(block.stride) == (1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.depthwise(self.expand(x))
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return x + y if self.residual else y


class OrientationClassifier(nn.Module):
    def __init__(self, config: OrientationConfig = PPOCR_MOBILE_V2) -> None:
        super().__init__()
        self.config = config
        self.stem = ConvNormAct(3, config.stem_channels, 3, stride=2, norm=True, act="hardswish")
        blocks = []
        width = config.stem_channels
        for block in config.blocks:
            blocks.append(InvertedResidual(width, block))
            width = block.channels
        self.blocks = nn.Sequential(*blocks)
        self.last = ConvNormAct(width, config.last_channels, 1, norm=True, act="hardswish")
        self.fc = nn.Linear(config.last_channels, config.num_classes)
        self.memory_format = torch.contiguous_format

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_images(x, "the orientation classifier")
        x = x.to(dtype=self.fc.weight.dtype, memory_format=self.memory_format)
        x = F.max_pool2d(self.last(self.blocks(self.stem(x))), 2, stride=2)
        return self.fc(x.mean(dim=(2, 3)))
