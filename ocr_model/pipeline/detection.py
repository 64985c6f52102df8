"""Text detection: pre-processing for the DB network and DB post-processing to polygons.

Pre-processing resizes the RGB uint8 image (never a float copy of the full image) to a
size that is a multiple of 32 and records the per-axis scale, so the boxes found on the
probability map can be mapped back to the original image's pixel coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import pyclipper
import torch

from ..config import OcrConfig

NETWORK_STRIDE = 32  # the DB network's input sides must be multiples of this


@dataclass(frozen=True)
class DetectionInput:
    tensor: torch.Tensor  # (1, 3, H, W) float32, BGR, normalized to [-1, 1]
    scale_x: float  # detection-input x = original x * scale_x
    scale_y: float

    @property
    def size(self) -> tuple[int, int]:
        return int(self.tensor.shape[2]), int(self.tensor.shape[3])


def detection_scale(height: int, width: int, config: OcrConfig) -> float:
    """Scale from the image to the detection input under the size policy (before rounding).

    Policy: raise the short side to `det_min_side` (at most `det_max_upscale`x), then cap
    the long side at `det_max_side` and the pixel count at `det_max_pixels`.
    """
    if height < 1 or width < 1:
        raise ValueError(f"image must be at least 1x1 pixels, got {height}x{width}")
    scale = 1.0
    if min(height, width) < config.det_min_side:
        scale = min(config.det_min_side / min(height, width), config.det_max_upscale)
    if max(height, width) * scale > config.det_max_side:
        scale = config.det_max_side / max(height, width)
    if height * width * scale * scale > config.det_max_pixels:
        scale = math.sqrt(config.det_max_pixels / (height * width))
    return scale


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """(height, width) times `scale`, each rounded to a multiple of 32 (at least 32)."""

    def round_side(side: int) -> int:
        return max(NETWORK_STRIDE, int(round(side * scale / NETWORK_STRIDE)) * NETWORK_STRIDE)

    return round_side(height), round_side(width)


def detection_size(height: int, width: int, config: OcrConfig) -> tuple[int, int]:
    """(height, width) of the detection input for an image of the given size: the
    `detection_scale` policy, each side rounded to a multiple of 32 (at least 32)."""
    return scaled_size(height, width, detection_scale(height, width, config))


def normalize_to_tensor(image_rgb: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 RGB -> (3, H, W) float32 BGR in [-1, 1], as PaddleOCR's networks expect."""
    bgr = torch.from_numpy(np.ascontiguousarray(image_rgb[:, :, ::-1]))
    return bgr.permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def prepare_detection_input(image_rgb: np.ndarray, config: OcrConfig, scale: float | None = None) -> DetectionInput:
    """Resize (area interpolation when shrinking) and normalize one RGB uint8 image.

    `scale` overrides the size policy (`detection_scale`)."""
    height, width = image_rgb.shape[:2]
    det_height, det_width = (
        detection_size(height, width, config) if scale is None else scaled_size(height, width, scale)
    )
    shrinking = det_height * det_width < height * width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    resized = cv2.resize(image_rgb, (det_width, det_height), interpolation=interpolation)
    return DetectionInput(
        tensor=normalize_to_tensor(resized).unsqueeze(0),
        scale_x=det_width / width,
        scale_y=det_height / height,
    )


def resize_on_device(image: torch.Tensor, scale: float) -> DetectionInput:
    """`prepare_detection_input` for an image already on the model's device ((1, 3, H, W)
    normalized BGR, see `crops.image_to_device`): bilinear, antialiased when shrinking."""
    height, width = image.shape[2:]
    det_height, det_width = scaled_size(height, width, scale)
    shrinking = det_height * det_width < height * width
    resized = torch.nn.functional.interpolate(
        image, size=(det_height, det_width), mode="bilinear", align_corners=False, antialias=shrinking
    )
    return DetectionInput(tensor=resized, scale_x=det_width / width, scale_y=det_height / height)


def order_clockwise(points: np.ndarray) -> np.ndarray:
    """Order 4 points as top-left, top-right, bottom-right, bottom-left (image coords)."""
    points = np.asarray(points, dtype=np.float32).reshape(4, 2)
    by_x = points[np.argsort(points[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    top_left, bottom_left = left[np.argsort(left[:, 1], kind="stable")]
    top_right, bottom_right = right[np.argsort(right[:, 1], kind="stable")]
    return np.stack([top_left, top_right, bottom_right, bottom_left]).astype(np.float32)


def min_area_quad(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Smallest rotated rectangle around `points`: (4x2 clockwise quad, shorter side)."""
    rect = cv2.minAreaRect(np.asarray(points, dtype=np.float32).reshape(-1, 1, 2))
    return order_clockwise(cv2.boxPoints(rect)), float(min(rect[1]))


def mean_score_in_quad(probabilities: np.ndarray, quad: np.ndarray) -> float:
    """Mean network probability inside a quadrilateral (DB 'fast' box score)."""
    height, width = probabilities.shape
    x_min = int(np.clip(np.floor(quad[:, 0].min()), 0, width - 1))
    x_max = int(np.clip(np.ceil(quad[:, 0].max()), 0, width - 1))
    y_min = int(np.clip(np.floor(quad[:, 1].min()), 0, height - 1))
    y_max = int(np.clip(np.ceil(quad[:, 1].max()), 0, height - 1))
    mask = np.zeros((y_max - y_min + 1, x_max - x_min + 1), dtype=np.uint8)
    local = (quad - np.array([x_min, y_min], dtype=np.float32)).round().astype(np.int32)
    cv2.fillPoly(mask, [local], 1)
    return float(cv2.mean(probabilities[y_min : y_max + 1, x_min : x_max + 1], mask)[0])


def unclip(quad: np.ndarray, ratio: float) -> np.ndarray:
    """Grow a shrunk text kernel outwards by area * ratio / perimeter (rounded joins)."""
    area = abs(cv2.contourArea(quad.astype(np.float32)))
    perimeter = cv2.arcLength(quad.astype(np.float32).reshape(-1, 1, 2), True)
    if perimeter <= 0:
        return quad
    distance = area * ratio / perimeter
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(quad.round().astype(np.int64).tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(distance)
    if not grown:
        return quad
    return np.asarray(max(grown, key=len), dtype=np.float32)


def boxes_from_probabilities(
    probabilities: np.ndarray, config: OcrConfig, dilate: bool | None = None
) -> tuple[list[np.ndarray], list[float]]:
    """DB post-processing on one (H, W) probability map, in detection-input coordinates.

    Binarize at `det_threshold` (optionally dilate), take external contours, keep the
    `max_text_regions` largest, fit rotated rectangles, score them, unclip and refit.
    `dilate` overrides `config.det_dilate`.
    """
    if probabilities.ndim != 2:
        raise ValueError(f"expected an (H, W) probability map, got shape {probabilities.shape}")
    bitmap = (probabilities > config.det_threshold).astype(np.uint8)
    if config.det_dilate if dilate is None else dilate:
        bitmap = cv2.dilate(bitmap, np.ones((2, 2), dtype=np.uint8))
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    if len(contours) > config.max_text_regions:
        areas = np.array([cv2.contourArea(contour) for contour in contours])
        keep = np.argsort(-areas, kind="stable")[: config.max_text_regions]
        contours = [contours[index] for index in sorted(keep)]

    quads: list[np.ndarray] = []
    scores: list[float] = []
    for contour in contours:
        if len(contour) < 2:
            continue
        kernel_quad, short_side = min_area_quad(contour)
        if short_side < config.det_min_box_side:
            continue
        score = mean_score_in_quad(probabilities, kernel_quad)
        if score < config.det_box_threshold:
            continue
        quad, short_side = min_area_quad(unclip(kernel_quad, config.det_unclip_ratio))
        if short_side < config.det_min_box_side + 2:
            continue
        quads.append(quad)
        scores.append(score)
    return quads, scores


def map_to_original(
    quads: list[np.ndarray], scale_x: float, scale_y: float, image_height: int, image_width: int
) -> list[np.ndarray]:
    """Detection-input coordinates -> original image pixels, clipped to the image."""
    mapped = []
    for quad in quads:
        original = quad / np.array([scale_x, scale_y], dtype=np.float32)
        original[:, 0] = np.clip(original[:, 0], 0, image_width)
        original[:, 1] = np.clip(original[:, 1], 0, image_height)
        mapped.append(original.astype(np.float32))
    return mapped


def keep_reasonable_quads(quads: list[np.ndarray], scores: list[float], min_side: float = 3.0):
    """Drop quads that became degenerate after clipping to the image (sides <= min_side px)."""
    kept_quads, kept_scores = [], []
    for quad, score in zip(quads, scores):
        width = np.linalg.norm(quad[0] - quad[1])
        height = np.linalg.norm(quad[0] - quad[3])
        if width > min_side and height > min_side:
            kept_quads.append(quad)
            kept_scores.append(score)
    return kept_quads, kept_scores


@torch.inference_mode()
def run_detection_network(network: torch.nn.Module, batch: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) -> (H, W) float32 probability map on the CPU (the network gives logits)."""
    device = next(network.parameters(), torch.empty(0)).device
    logits = network(batch.to(device))
    if logits.ndim != 4 or logits.shape[1] != 1:
        raise RuntimeError(f"detection network returned shape {tuple(logits.shape)}, expected (N, 1, H, W)")
    return torch.sigmoid(logits[0, 0].float()).cpu().numpy()
