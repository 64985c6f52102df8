"""Text lines waiting to be read, and how a batch of them becomes a network input.

Two sources with the same interface (`LineSource`):
- `HostLines`: uint8 RGB crops in host memory (`crops.crop_quad`), resized with OpenCV and
  uploaded per batch. The CPU pipeline (fast and exact there).
- `DeviceLines`: lines as 3x3 maps into images already on the model's device; a batch is
  resampled there with one `F.grid_sample` per source image (`crops.sample_lines`): no crop
  or resize on the host and no per-line transfer. The GPU pipeline.

Both can be concatenated (lines of several images read in shared batches) and turned by 180°.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np
import torch

from . import crops
from .crops import LineGeometry, sample_lines


class LineSource(Protocol):
    def __len__(self) -> int: ...

    def sizes(self) -> list[tuple[int, int]]:
        """(width, height) of each line's horizontal crop."""
        ...

    def batch(self, indices: Sequence[int], height: int, width: int, device: torch.device) -> torch.Tensor:
        """(len(indices), 3, height, width) float32 BGR in [-1, 1] on `device`, right-padded with 0."""
        ...

    def turned_180(self, indices: Sequence[int]) -> "LineSource":
        """The lines `indices` (in that order), rotated by 180°."""
        ...


def resize_line(crop: np.ndarray, height: int, max_width: int) -> np.ndarray:
    """Resize a line crop to `height`, keeping its aspect ratio (width capped at max_width)."""
    width = min(max_width, max(1, math.ceil(height * crop.shape[1] / crop.shape[0])))
    interpolation = cv2.INTER_AREA if crop.shape[0] > height else cv2.INTER_LINEAR
    return cv2.resize(crop, (width, height), interpolation=interpolation)


def prepare_line_batch(crops: list[np.ndarray], height: int, width: int) -> torch.Tensor:
    """RGB uint8 crops -> (N, 3, height, width) float32 BGR in [-1, 1], right-padded with 0."""
    if not crops:
        raise ValueError("prepare_line_batch needs at least one crop")
    batch = torch.zeros((len(crops), 3, height, width), dtype=torch.float32)
    for row, crop in enumerate(crops):
        resized = resize_line(crop, height, width)
        bgr = torch.from_numpy(np.ascontiguousarray(resized[:, :, ::-1]))
        batch[row, :, :, : resized.shape[1]] = bgr.permute(2, 0, 1).float().div_(127.5).sub_(1.0)
    return batch


class HostLines:
    """Crops in host memory (uint8 RGB, horizontal)."""

    def __init__(self, crops: Sequence[np.ndarray]) -> None:
        self.crops = list(crops)

    def __len__(self) -> int:
        return len(self.crops)

    def sizes(self) -> list[tuple[int, int]]:
        return [(crop.shape[1], crop.shape[0]) for crop in self.crops]

    def batch(self, indices: Sequence[int], height: int, width: int, device: torch.device) -> torch.Tensor:
        return prepare_line_batch([self.crops[i] for i in indices], height, width).to(device, non_blocking=True)

    def turned_180(self, indices: Sequence[int]) -> "HostLines":
        return HostLines([np.ascontiguousarray(self.crops[i][::-1, ::-1]) for i in indices])

    def __add__(self, other: "HostLines") -> "HostLines":
        return HostLines(self.crops + other.crops)


class DeviceLines:
    """Lines of images held on the model's device: (image tensor, geometry) per line."""

    def __init__(self, entries: Sequence[tuple[torch.Tensor, LineGeometry]]) -> None:
        self.entries = list(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def sizes(self) -> list[tuple[int, int]]:
        return [(geometry.width, geometry.height) for _, geometry in self.entries]

    def batch(self, indices: Sequence[int], height: int, width: int, device: torch.device) -> torch.Tensor:
        # One grid_sample per source image; rows then put back in the order of `indices`.
        groups: dict[int, list[int]] = {}
        for row, index in enumerate(indices):
            groups.setdefault(id(self.entries[index][0]), []).append(row)
        if len(groups) == 1:
            image = self.entries[indices[0]][0]
            return sample_lines(image, [self.entries[i][1] for i in indices], height, width)
        parts, order = [], []
        for rows in groups.values():
            image = self.entries[indices[rows[0]]][0]
            parts.append(sample_lines(image, [self.entries[indices[row]][1] for row in rows], height, width))
            order += rows
        stacked = torch.cat(parts)
        return stacked.index_select(0, crops.upload(np.argsort(np.array(order)), stacked.device))

    def turned_180(self, indices: Sequence[int]) -> "DeviceLines":
        return DeviceLines([(self.entries[i][0], self.entries[i][1].rotated_180()) for i in indices])

    def __add__(self, other: "DeviceLines") -> "DeviceLines":
        return DeviceLines(self.entries + other.entries)


def pad_rows(batch: torch.Tensor, sizes: Sequence[int]) -> torch.Tensor:
    """`batch` with zero rows appended up to the smallest of `sizes` (ascending) that holds it
    (unchanged when none does or `sizes` is empty): a bounded set of batch shapes."""
    for size in sizes:
        if size >= batch.shape[0]:
            if size == batch.shape[0]:
                return batch
            return torch.cat([batch, batch.new_zeros((size - batch.shape[0], *batch.shape[1:]))])
    return batch


def as_line_source(lines: LineSource | Sequence[np.ndarray]) -> LineSource:
    """A LineSource as is; a list of host crops as `HostLines`."""
    if isinstance(lines, (HostLines, DeviceLines)):
        return lines
    return HostLines(list(lines))
