"""The three PP-OCR networks as plain PyTorch modules.

    detector.py     Detector: PPLCNetV4 backbone -> RepLKFPN neck -> DB head; (N,3,H,W) -> (N,1,H,W) logits
    recognizer.py   Recognizer: PPLCNetV4 backbone -> LightSVTR encoder -> CTC head; (N,3,48,W) -> (N,T,C) logits
    orientation.py  OrientationClassifier: MobileNetV3-small; (N,3,48,192) -> (N,2) logits of [0°, 180°]
    backbone.py     PPLCNetV4 (shared by detector and recognizer); layers.py the blocks they share

Sizes come from config dataclasses (`detector.PPOCRV6_SMALL`, ...), so other sizes of the same
architecture are other configs. Inputs are BGR, ``(pixel / 255 - 0.5) / 0.5``. `forward` returns
logits; the pipeline applies the sigmoid / softmax, so training uses the same modules.

>>> det = load_detector()                 # weights from the rapidocr wheel's ONNX files (onnx_import.py)
>>> chars = load_character_list()         # CTC class i + 1 is chars[i]; 0 is the blank; the last is " "
"""

from __future__ import annotations

from .detector import Detector, DetectorConfig
from .loaders import (
    load_character_list,
    load_detector,
    load_orientation_classifier,
    load_recognizer,
    prepare_for_inference,
)
from .orientation import OrientationClassifier, OrientationConfig
from .recognizer import Recognizer, RecognizerConfig, restrict_characters

__all__ = [
    "Detector",
    "DetectorConfig",
    "OrientationClassifier",
    "OrientationConfig",
    "Recognizer",
    "RecognizerConfig",
    "load_character_list",
    "load_detector",
    "load_orientation_classifier",
    "load_recognizer",
    "prepare_for_inference",
    "restrict_characters",
]
