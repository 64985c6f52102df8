"""Training-time augmentation of a text line: geometry, then photometry, then resolution.

Geometry jitters the line's quad inside its context patch (a small rotation, independent corner moves =
perspective, a random margin) and cuts it with the engine's `crop_quad`, so an augmented line is cut the way
a detected line is. Photometry: contrast, brightness and per-channel colour, sometimes grey, blur and noise.
Resolution ("height jitter"): the crop is sometimes shrunk to fewer pixels than the recognizer's height
(the resize to 48 then enlarges it), as small or distant text is read.

All randomness comes from the `numpy.random.Generator` passed in, so a run is repeatable with its seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..pipeline.crops import crop_quad
from .line_data import LineSample


@dataclass(frozen=True)
class Augmentation:
    rotation_degrees: float = 2.0
    corner_jitter: float = 0.06  # standard deviation of each corner's move, as a fraction of the line height
    padding: tuple[float, float] = (0.02, 0.16)  # margin around the line (inference uses OcrConfig.crop_padding)
    contrast: tuple[float, float] = (0.6, 1.25)
    brightness: float = 30.0  # +- grey levels
    colour: float = 0.12  # +- relative gain per channel
    grey_probability: float = 0.2
    blur_probability: float = 0.3
    blur_sigma: tuple[float, float] = (0.4, 1.3)  # in pixels of the recognizer's height
    noise_probability: float = 0.2
    noise_sigma: float = 6.0
    low_resolution_probability: float = 0.3
    low_resolution_height: tuple[int, int] = (18, 40)  # shrink to this many pixels tall before the resize to 48
    untouched_probability: float = 0.15  # a share of lines seen exactly as inference cuts them


def jitter_quad(inner: np.ndarray, rng: np.random.Generator, settings: Augmentation) -> np.ndarray:
    """`inner` rotated about its centre by a small angle, each corner moved independently."""
    height = float((np.linalg.norm(inner[0] - inner[3]) + np.linalg.norm(inner[1] - inner[2])) / 2)
    width = float((np.linalg.norm(inner[0] - inner[1]) + np.linalg.norm(inner[3] - inner[2])) / 2)
    centre = inner.mean(axis=0)
    # A long line turned by a fixed angle moves its ends by many line heights: bound the end move to ~0.3 height.
    limit = min(settings.rotation_degrees, math.degrees(math.atan2(0.6 * height, max(width, 1.0))))
    angle = math.radians(rng.uniform(-limit, limit))
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], dtype=np.float32)
    turned = (inner - centre) @ rotation.T + centre
    moved = turned + rng.normal(0.0, settings.corner_jitter * height, size=(4, 2)).astype(np.float32)
    return moved.astype(np.float32)


def _photometric(crop: np.ndarray, rng: np.random.Generator, settings: Augmentation, height: int) -> np.ndarray:
    image = crop.astype(np.float32)
    if rng.random() < settings.grey_probability:
        image = np.repeat(image.mean(axis=2, keepdims=True), 3, axis=2)
    mean = float(image.mean())
    contrast = rng.uniform(*settings.contrast)
    gains = 1.0 + rng.uniform(-settings.colour, settings.colour, size=3).astype(np.float32)
    image = ((image - mean) * contrast + mean + rng.uniform(-settings.brightness, settings.brightness)) * gains
    scale = crop.shape[0] / height  # blur and noise are specified at the recognizer's scale
    if rng.random() < settings.blur_probability:
        sigma = rng.uniform(*settings.blur_sigma) * scale
        image = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma)
    if rng.random() < settings.noise_probability:
        image = image + rng.normal(0.0, settings.noise_sigma, size=image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def _low_resolution(crop: np.ndarray, rng: np.random.Generator, settings: Augmentation) -> np.ndarray:
    low, high = settings.low_resolution_height
    target = int(rng.integers(low, high + 1))
    if crop.shape[0] <= target:
        return crop
    width = max(1, round(crop.shape[1] * target / crop.shape[0]))
    return cv2.resize(crop, (width, target), interpolation=cv2.INTER_AREA)


def _perspective_on_crop(crop: np.ndarray, rng: np.random.Generator, settings: Augmentation) -> np.ndarray:
    """Geometry for a line known only as a crop (labels.tsv): the same jitter, inside the crop itself."""
    height, width = crop.shape[:2]
    inner = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    quad = jitter_quad(inner, rng, settings)
    return crop_quad(crop, quad, padding=0.0)


def augment_line(
    sample: LineSample, rng: np.random.Generator, settings: Augmentation, crop_padding: float, height: int = 48
) -> np.ndarray:
    """One augmented uint8 RGB crop of `sample` (any size; the batch resize brings it to `height`)."""
    if rng.random() < settings.untouched_probability:
        return sample.crop
    if sample.patch is not None and sample.inner is not None:
        quad = jitter_quad(sample.inner, rng, settings)
        low, high = settings.padding
        padding = float(np.clip(rng.normal(crop_padding, (high - low) / 4), low, high))
        crop = crop_quad(sample.patch, quad, padding=padding)
    else:
        crop = _perspective_on_crop(sample.crop, rng, settings)
    crop = _photometric(crop, rng, settings, height)
    if rng.random() < settings.low_resolution_probability:
        crop = _low_resolution(crop, rng, settings)
    return crop
