"""PPLCNetV4: the convolutional backbone of the PP-OCRv6 detector and recognizer.

    stem (stride 4) -> stages[0] -> stages[1] -> ... ; each stage is a list of `LCNetV4Block`s,
    the first of which may change the width and downsample.

The shipped weights are inference exports: every training-time re-parameterised depthwise branch
(3x3 + 1x1 + identity, each with a BatchNorm) and every conv+BatchNorm is one conv with a bias here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import ConvNormAct, SqueezeExcite, same_max_pool_2x2, same_pad


@dataclass(frozen=True)
class StageConfig:
    """One stage: `blocks` blocks of width `channels`; the first has `stride` (and takes the
    previous width); `se` holds the indices of the blocks with squeeze-excite."""

    channels: int
    blocks: int
    stride: tuple[int, int] = (1, 1)
    se: tuple[int, ...] = ()


@dataclass(frozen=True)
class BackboneConfig:
    stem_channels: int  # width inside the stem (its 2x2 branch runs at half of it)
    out_stem: int  # width after the stem
    stages: tuple[StageConfig, ...]
    se_reduction: int = 4
    stem: str = "lcnetv4"  # "lcnetv4": the 5-conv stem below; "conv2": two 3x3 s2 conv+BN (PP-OCRv6 tiny rec)


class Stem(nn.Module):
    """Stride 4: 3x3 s2 conv; a 2x2 conv branch beside a 2x2 max-pool (both "SAME", padded bottom/right);
    concatenated; 3x3 s2 conv; 1x1 conv. ReLU after every conv."""

    def __init__(self, channels: int, out_channels: int) -> None:
        super().__init__()
        self.stem1 = ConvNormAct(3, channels, 3, stride=2, act="relu")
        self.stem2a = ConvNormAct(channels, channels // 2, 2, act="relu", padding=0)
        self.stem2b = ConvNormAct(channels // 2, channels, 2, act="relu", padding=0)
        self.stem3 = ConvNormAct(channels * 2, channels, 3, stride=2, act="relu")
        self.stem4 = ConvNormAct(channels, out_channels, 1, act="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem1(x)
        branch = self.stem2b(same_pad(self.stem2a(same_pad(x))))
        pooled = same_max_pool_2x2(x)
        # The stem's maps are the network's largest (stride 2), and locals live until the function returns:
        # without these dels stem1's output, the pool and the branch stayed beside their concatenation through
        # stem3 (a 1600 x 1120 page in float32: 3 x 43 MB more at the detector's peak).
        del x
        joined = torch.cat([pooled, branch], dim=1)
        del pooled, branch
        x = self.stem3(joined)
        del joined
        return self.stem4(x)


class Conv2Stem(nn.Module):
    """Stride 4 in two 3x3 stride-2 convs with BatchNorm, GELU between them (PP-OCRv6 tiny recognizer)."""

    def __init__(self, channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = ConvNormAct(3, channels, 3, stride=2, norm=True, act="gelu")
        self.conv2 = ConvNormAct(channels, out_channels, 3, stride=2, norm=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


STEMS = {"lcnetv4": Stem, "conv2": Conv2Stem}


class LCNetV4Block(nn.Module):
    """3x3 depthwise -> optional SE -> 1x1 expand (2x input width) -> GELU -> 1x1 to the output width,
    with `t + mixer(t)` (t = depthwise/SE output) when the block keeps width and resolution."""

    def __init__(
        self, in_channels: int, out_channels: int, stride: tuple[int, int], se: bool, se_reduction: int = 4
    ) -> None:
        super().__init__()
        self.depthwise = ConvNormAct(in_channels, in_channels, 3, stride=stride, groups=in_channels)
        self.se = SqueezeExcite(in_channels, se_reduction) if se else None
        self.expand = ConvNormAct(in_channels, in_channels * 2, 1, act="gelu")
        self.project = ConvNormAct(in_channels * 2, out_channels, 1)
        self.residual = tuple(stride) == (1, 1) and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.depthwise(x)
        if self.se is not None:
            x = self.se(x)
        mixed = self.project(self.expand(x))
        return mixed.add_(x) if self.residual else mixed  # in place: add's gradient needs neither value


class PPLCNetV4(nn.Module):
    """Stem then stages; `forward` returns every stage's output (the detector uses all four)."""

    def __init__(self, config: BackboneConfig) -> None:
        super().__init__()
        self.config = config
        if config.stem not in STEMS:
            raise ValueError(f"unknown stem {config.stem!r}; expected one of {sorted(STEMS)}")
        self.stem = STEMS[config.stem](config.stem_channels, config.out_stem)
        stages = []
        width = config.out_stem
        for stage in config.stages:
            blocks = []
            for index in range(stage.blocks):
                stride = tuple(stage.stride) if index == 0 else (1, 1)
                blocks.append(LCNetV4Block(width, stage.channels, stride, index in stage.se, config.se_reduction))
                width = stage.channels
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.ModuleList(stages)

    @property
    def out_channels(self) -> list[int]:
        return [stage.channels for stage in self.config.stages]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        outputs = []
        for stage in self.stages:
            x = stage(x)
            outputs.append(x)
        return outputs
