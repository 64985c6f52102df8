"""The three PP-OCR networks as torch ``nn.Module``s, built from the rapidocr ONNX files.

>>> det = load_detection_network()       # (N, 3, H, W) -> (N, 1, H, W) text probability map
>>> rec = load_recognition_network()     # (N, 3, 48, W) -> (N, W / 8, 18710) CTC probabilities
>>> cls = load_orientation_network()     # (N, 3, 48, 192) -> (N, 2) probabilities of [0°, 180°]
>>> chars = load_character_list()        # CTC index i + 1 is chars[i]; 0 is the blank

Inputs are float32, RGB channel order... see the loader docstrings for the normalisation.
"""

from __future__ import annotations

from .loaders import (
    DetectionNetwork,
    OrientationNetwork,
    RecognitionNetwork,
    load_character_list,
    load_detection_network,
    load_orientation_network,
    load_recognition_network,
)

__all__ = [
    "DetectionNetwork",
    "OrientationNetwork",
    "RecognitionNetwork",
    "load_character_list",
    "load_detection_network",
    "load_orientation_network",
    "load_recognition_network",
]
