"""The PP-OCRv6 text-line recognizer: PPLCNetV4 backbone -> LightSVTR encoder -> CTC head
(tiny: a two-conv stem, a conv encoder and a two-layer head; `PPOCRV6_TINY`).

    (N, 3, 48, W) normalised BGR -> (N, T, classes) logits, T = floor(ceil(W / 4) / 2)

Class 0 is the CTC blank; softmax is applied by the caller (the pipeline decodes greedily from the
logits; training feeds them to `CTCLoss` after a log-softmax).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from .backbone import BackboneConfig, PPLCNetV4, StageConfig
from .layers import ConvNormAct, check_images

INPUT_HEIGHT = 48


@dataclass(frozen=True)
class RecognizerConfig:
    backbone: BackboneConfig
    num_classes: int  # blank + characters (+ the space, PP-OCR's implicit last class)
    hidden: int = 120  # encoder width
    depth: int = 2  # transformer blocks
    heads: int = 8
    mlp_ratio: int = 2
    conv_kernel: tuple[int, int] = (1, 7)  # the encoder's local depthwise mixer
    pool: tuple[int, int] = (3, 2)  # backbone output (3, W/4) -> (1, W/8)
    input_height: int = INPUT_HEIGHT
    neck: str = "svtr"  # "svtr": LightSVTREncoder; "conv": ConvEncoder (PP-OCRv6 tiny)
    head_hidden: int = 0  # > 0: a Linear to this width before the classes (PP-OCRv6 tiny)


PPOCRV6_SMALL = RecognizerConfig(
    backbone=BackboneConfig(
        stem_channels=48,
        out_stem=96,
        stages=(
            StageConfig(96, 3, (1, 1), se=(0,)),
            StageConfig(192, 7, (2, 1), se=(1, 3, 5)),
            StageConfig(384, 3, (2, 1), se=(1,)),
        ),
    ),
    num_classes=18710,
)

PPOCRV6_TINY = RecognizerConfig(
    backbone=BackboneConfig(
        stem_channels=24,
        out_stem=48,
        stem="conv2",
        stages=(
            StageConfig(48, 2, (1, 1), se=(0,)),
            StageConfig(96, 3, (2, 1), se=(1,)),
            StageConfig(160, 4, (2, 1), se=(1,)),
        ),
    ),
    num_classes=6906,
    hidden=160,
    conv_kernel=(1, 5),
    neck="conv",
    head_hidden=80,
)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, dim = x.shape
        q, k, v = self.qkv(x).reshape(batch, steps, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        x = F.scaled_dot_product_attention(q, k, v)  # scale (dim/heads)^-0.5, as PaddleOCR
        return self.proj(x.transpose(1, 2).reshape(batch, steps, dim))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.silu(self.fc1(x)))


class TransformerBlock(nn.Module):
    """Pre-norm: x + attn(norm1(x)), then x + mlp(norm2(x)); LayerNorm eps 1e-5."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.mlp = Mlp(dim, dim * mlp_ratio)
        self.dropout = nn.Dropout(dropout)  # training only, as PaddleOCR's config

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout(self.attn(self.norm1(x)))
        return x + self.dropout(self.mlp(self.norm2(x)))


class LightSVTREncoder(nn.Module):
    """Skip branch (1x1 conv, BN, swish) + main branch: 1x1 conv, BN, swish; z + (1x7 depthwise, BN,
    swish)(z); transformer blocks over the W steps; LayerNorm (eps 1e-6); + skip."""

    def __init__(self, in_channels: int, config: RecognizerConfig) -> None:
        super().__init__()
        dim = config.hidden
        self.skip = ConvNormAct(in_channels, dim, 1, norm=True, act="swish")
        self.reduce = ConvNormAct(in_channels, dim, 1, norm=True, act="swish")
        self.local = ConvNormAct(dim, dim, config.conv_kernel, groups=dim, norm=True, act="swish")
        self.blocks = nn.ModuleList(TransformerBlock(dim, config.heads, config.mlp_ratio) for _ in range(config.depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(x)
        z = self.reduce(x)
        z = z + self.local(z)
        batch, channels, height, width = z.shape
        tokens = z.flatten(2).transpose(1, 2)
        for block in self.blocks:
            tokens = block(tokens)
        z = self.norm(tokens).transpose(1, 2).reshape(batch, channels, height, width)
        return z + skip


class ConvEncoder(nn.Module):
    """(1, k) depthwise conv, BN, hardswish; 1x1 conv, BN, hardswish (PP-OCRv6 tiny's neck)."""

    def __init__(self, in_channels: int, config: RecognizerConfig) -> None:
        super().__init__()
        self.local = ConvNormAct(in_channels, in_channels, config.conv_kernel, groups=in_channels, norm=True, act="hardswish")
        self.mix = ConvNormAct(in_channels, config.hidden, 1, norm=True, act="hardswish")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(self.local(x))


NECKS = {"svtr": LightSVTREncoder, "conv": ConvEncoder}


class CTCHead(nn.Module):
    """Linear to the classes (after a Linear to `hidden` width when hidden > 0)."""

    def __init__(self, dim: int, num_classes: int, hidden: int = 0) -> None:
        super().__init__()
        self.hidden = nn.Linear(dim, hidden) if hidden else None
        self.fc = nn.Linear(hidden or dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What `fc` turns into class scores: `x`, or the hidden Linear's output."""
        return self.hidden(x) if self.hidden is not None else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


class Recognizer(nn.Module):
    """(N, 3, 48, W) -> (N, T, num_classes) logits. The input is cast to the weights' dtype."""

    def __init__(self, config: RecognizerConfig = PPOCRV6_SMALL) -> None:
        super().__init__()
        self.config = config
        self.backbone = PPLCNetV4(config.backbone)
        if config.neck not in NECKS:
            raise ValueError(f"unknown recognizer neck {config.neck!r}; expected one of {sorted(NECKS)}")
        self.neck = NECKS[config.neck](self.backbone.out_channels[-1], config)
        self.head = CTCHead(config.hidden, config.num_classes, config.head_hidden)
        self.memory_format = torch.contiguous_format

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head.fc(self.step_features(x))

    def step_features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, 48, W) -> (N, T, D): each time step's input to the class scores (`head.fc`), so that
        `forward(x) == head.fc(step_features(x))`. The pipeline scores a batch's steps a slice at a time
        (pipeline/recognition.py: `fused_greedy_path`) instead of holding all (N, T, classes) at once."""
        check_images(x, "the recognizer")
        if x.shape[2] != self.config.input_height or x.shape[3] == 0:
            raise ValueError(
                f"the recognizer needs (N, 3, {self.config.input_height}, W>0) inputs, got {tuple(x.shape)}"
            )
        x = x.to(dtype=self.head.fc.weight.dtype, memory_format=self.memory_format)
        features = F.avg_pool2d(self.backbone(x)[-1], self.config.pool)
        features = self.neck(features)  # (N, C, 1, T)
        return self.head.features(features.squeeze(2).transpose(1, 2))



@torch.no_grad()
def restrict_characters(network: Recognizer, characters: list[str], keep: Iterable[str]) -> list[str]:
    """Cut the CTC head down to the classes of the characters in `keep`, in place; returns the new character
    list (class i + 1 is its i-th entry, as before).

    The blank (class 0) always stays, and so does PP-OCR's implicit last class, the space, when the network
    has one (`num_classes == len(characters) + 2`). Kept classes keep their weight rows unchanged and in
    order, so their logits are the full head's logits for those classes; the greedy path can only differ
    where a dropped class would have won the step, and softmax confidences are normalised over the kept
    classes only (so they are at least the full head's). For inference on text known to use few characters
    (e.g. receipts: ASCII): the 18,710-class head of PP-OCRv6 small is the largest layer of the recognizer.
    """
    fc = network.head.fc
    space_class = fc.out_features == len(characters) + 2
    if fc.out_features not in (len(characters) + 1, len(characters) + 2):
        raise ValueError(f"{len(characters)} characters do not match the head's {fc.out_features} classes")
    wanted = set(keep)
    kept = [index for index, character in enumerate(characters) if character in wanted]
    if not kept:
        raise ValueError("none of the characters to keep is in the recognizer's character list")
    rows = [0, *(index + 1 for index in kept)] + ([fc.out_features - 1] if space_class else [])
    index = torch.tensor(rows, device=fc.weight.device)
    pruned = nn.Linear(fc.in_features, len(rows), bias=fc.bias is not None, device=fc.weight.device, dtype=fc.weight.dtype)
    pruned.weight.copy_(fc.weight.index_select(0, index))
    if fc.bias is not None:
        pruned.bias.copy_(fc.bias.index_select(0, index))
    pruned.requires_grad_(fc.weight.requires_grad)
    network.head.fc = pruned
    network.config = replace(network.config, num_classes=len(rows))
    return [characters[index] for index in kept]
