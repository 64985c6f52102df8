"""Cut text lines out of the original uint8 image with a perspective warp."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

# A crop this many times taller than wide is taken as vertical text and turned 90°
# counter-clockwise so the recognizer reads it left to right.
VERTICAL_ASPECT = 1.5


def pad_quad(quad: np.ndarray, padding: float) -> np.ndarray:
    """Grow a clockwise quad by `padding` x its height on every side (0 = unchanged)."""
    if padding <= 0:
        return quad
    top_left, top_right, bottom_right, bottom_left = quad.astype(np.float64)
    along = (top_right - top_left) + (bottom_right - bottom_left)
    across = (bottom_left - top_left) + (bottom_right - top_right)
    along_unit = along / max(np.linalg.norm(along), 1e-6)
    across_unit = across / max(np.linalg.norm(across), 1e-6)
    height = (np.linalg.norm(bottom_left - top_left) + np.linalg.norm(bottom_right - top_right)) / 2
    dx, dy = along_unit * padding * height, across_unit * padding * height
    grown = np.stack([top_left - dx - dy, top_right + dx - dy, bottom_right + dx + dy, bottom_left - dx + dy])
    return grown.astype(np.float32)


def crop_quad(image: np.ndarray, quad: np.ndarray, padding: float = 0.0) -> np.ndarray:
    """Rectified crop of a clockwise quad (TL, TR, BR, BL) from `image` (any HxWxC uint8).

    Only the crop is computed (the warp reads the source where it needs to), so cropping
    from a 35 MP image does not copy it. Vertical crops are rotated to horizontal.
    """
    quad = pad_quad(np.asarray(quad, dtype=np.float32).reshape(4, 2), padding)
    width = int(round(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2]))))
    height = int(round(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2]))))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    transform = cv2.getPerspectiveTransform(quad, target)
    crop = cv2.warpPerspective(
        image, transform, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    if height >= VERTICAL_ASPECT * width:
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop


# ----------------------------------------------------------------------------------------
# The same crops as torch operations on the model's device (the GPU pipeline): each line is
# a 3x3 map from its (horizontal) crop's pixels to the source image's pixels, and a batch of
# lines is resampled straight into the recognizer's input with one F.grid_sample call.


@dataclass(frozen=True)
class LineGeometry:
    """Where a text line's crop comes from: crop pixel (x, y, 1) -> source pixel (homogeneous).

    `width` x `height` is the crop's size once turned horizontal (what `crop_quad` returns).
    """

    to_source: np.ndarray  # (3, 3) float64
    width: int
    height: int

    def rotated_180(self) -> "LineGeometry":
        flip = np.array([[-1.0, 0.0, self.width - 1.0], [0.0, -1.0, self.height - 1.0], [0.0, 0.0, 1.0]])
        return LineGeometry(self.to_source @ flip, self.width, self.height)


def line_geometry(quad: np.ndarray, padding: float = 0.0) -> LineGeometry:
    """The `crop_quad` crop of `quad` as a LineGeometry (same margin, size and 90° turn)."""
    quad = pad_quad(np.asarray(quad, dtype=np.float32).reshape(4, 2), padding)
    width = int(round(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2]))))
    height = int(round(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2]))))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    to_source = np.linalg.inv(cv2.getPerspectiveTransform(quad, target).astype(np.float64))
    if height >= VERTICAL_ASPECT * width:
        # np.rot90 (counter-clockwise): turned pixel (x, y) is crop pixel (width - 1 - y, x).
        turn = np.array([[0.0, -1.0, width - 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
        return LineGeometry(to_source @ turn, height, width)
    return LineGeometry(to_source, width, height)


def upload(array: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """A host array as a tensor on `device`: the device pipeline's only host -> device copy
    (tests replace it to run the pipeline on a fake CUDA device)."""
    array = np.ascontiguousarray(array)
    if not array.flags.writeable:  # torch wants writable memory even though it only reads it here
        array = array.copy()
    return torch.from_numpy(array).to(device, non_blocking=True)


def image_to_device(image: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """HxWx3 uint8 RGB -> (1, 3, H, W) float32 BGR in [-1, 1] on `device` (uploaded as uint8)."""
    pixels = upload(image, device)
    return pixels.permute(2, 0, 1).flip(0).unsqueeze(0).float().div_(127.5).sub_(1.0)


# Most sub-samples per output pixel and axis when a line is shrunk (an area filter).
MAX_SUPERSAMPLING = 4


def sample_lines(
    image: torch.Tensor, geometries: Sequence[LineGeometry], height: int, width: int
) -> torch.Tensor:
    """(N, 3, height, width) recognizer input for lines of one device image.

    Each line is resized to `height` keeping its aspect ratio (width capped at `width`) and
    right-padded with 0, like `recognition.prepare_line_batch` on `crop_quad` crops; shrunk
    lines are averaged over up to 4x4 bilinear samples per pixel (area-like, as cv2.INTER_AREA).
    Host work is 3x3 matrices per line; the sampling is one grid_sample on `image`'s device.
    """
    if not geometries:
        raise ValueError("sample_lines needs at least one line")
    _, _, image_height, image_width = image.shape
    widths = [min(width, max(1, math.ceil(height * g.width / g.height))) for g in geometries]
    shrink = max(g.height / height for g in geometries)
    factor = int(min(MAX_SUPERSAMPLING, max(1, math.ceil(shrink - 1e-6))))
    # Output (sub-)pixel centre (u, v) -> crop pixel: x = (u + 0.5) * w / out_w - 0.5.
    maps = []
    for geometry, out_width in zip(geometries, widths):
        sx, sy = geometry.width / out_width, geometry.height / height
        to_crop = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
        # ... and to grid_sample's [-1, 1] coordinates (align_corners=False).
        to_unit = np.array(
            [[2.0 / image_width, 0.0, 1.0 / image_width - 1.0], [0.0, 2.0 / image_height, 1.0 / image_height - 1.0], [0.0, 0.0, 1.0]]
        )
        maps.append(to_unit @ geometry.to_source @ to_crop)
    device = image.device
    matrices = upload(np.stack(maps).astype(np.float32), device)
    steps_u = (torch.arange(width * factor, device=device, dtype=torch.float32) + 0.5) / factor - 0.5
    steps_v = (torch.arange(height * factor, device=device, dtype=torch.float32) + 0.5) / factor - 0.5
    v, u = torch.meshgrid(steps_v, steps_u, indexing="ij")
    points = torch.stack([u, v, torch.ones_like(u)], dim=-1)  # (Hk, Wk, 3)
    mapped = torch.einsum("nij,hwj->nhwi", matrices, points)
    grid = mapped.narrow(-1, 0, 2) / mapped.narrow(-1, 2, 1).clamp_min(1e-6)
    count = len(geometries)
    # Bicubic when enlarging (as crop_quad's INTER_CUBIC warp); bilinear sub-samples when shrinking.
    sampled = F.grid_sample(
        image,
        grid.reshape(1, count * height * factor, width * factor, 2),
        mode="bicubic" if factor == 1 else "bilinear",
        padding_mode="border",
        align_corners=False,
    )
    lines = sampled.view(3, count, height * factor, width * factor).transpose(0, 1)
    if factor > 1:
        lines = F.avg_pool2d(lines, factor)
    columns = torch.arange(width, device=device)
    keep = columns.unsqueeze(0) < upload(np.array(widths, dtype=np.int64), device).unsqueeze(1)  # (N, width)
    return lines * keep.view(count, 1, 1, width)
