"""Build the networks and fill them from the PaddleOCR ONNX exports (by default the rapidocr wheel's).

Input convention shared by the three networks (it is what rapidocr feeds them): float32, channels
in **BGR** order, each value ``(pixel / 255 - 0.5) / 0.5``, i.e. in [-1, 1]. Each returns logits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import torch
from torch import nn

from . import detector as detector_module
from . import model_files
from . import recognizer as recognizer_module
from .detector import Detector, DetectorConfig
from .layers import fuse_batch_norms
from .onnx_import import load_onnx_weights
from .onnx_weights import read_character_list
from .orientation import PPOCR_MOBILE_V2, OrientationClassifier, OrientationConfig
from .recognizer import Recognizer, RecognizerConfig

Network = TypeVar("Network", bound=nn.Module)


def _onnx_file(path: str | Path | None, default) -> Path:
    path = Path(path) if path is not None else default()
    if not path.is_file():
        raise FileNotFoundError(f"ONNX model file not found: {path}")
    return path


def load_detector(path: str | Path | None = None, config: DetectorConfig = detector_module.PPOCRV6_SMALL) -> Detector:
    """The DB detector (PP-OCRv6 small by default) from an ONNX export, float32, eval mode."""
    network = Detector(config).eval()
    load_onnx_weights(network, _onnx_file(path, model_files.detection_model_path))
    return network


def load_recognizer(
    path: str | Path | None = None, config: RecognizerConfig = recognizer_module.PPOCRV6_SMALL
) -> Recognizer:
    """The CTC recognizer (PP-OCRv6 small by default) from an ONNX export, float32, eval mode."""
    network = Recognizer(config).eval()
    load_onnx_weights(network, _onnx_file(path, model_files.recognition_model_path))
    return network


def load_orientation_classifier(
    path: str | Path | None = None, config: OrientationConfig = PPOCR_MOBILE_V2
) -> OrientationClassifier:
    """The PP-OCR mobile v2.0 0°/180° line classifier from its ONNX export, float32, eval mode."""
    network = OrientationClassifier(config).eval()
    load_onnx_weights(network, _onnx_file(path, model_files.orientation_model_path))
    return network


def load_character_list(path: str | Path | None = None) -> list[str]:
    """The recognition characters stored in a rec ONNX file's ``character`` metadata (default: small's
    18,708). Class 0 is the blank, class i + 1 is chars[i], the last class (len + 1) is " "."""
    return read_character_list(_onnx_file(path, model_files.recognition_model_path))


def prepare_for_inference(network: Network, channels_last: bool = True) -> Network:
    """Eval mode, no gradients, BatchNorms folded into their convs, and (on CPU) channels-last
    weights and inputs: oneDNN's native layout, where depthwise convs skip two reorders per call
    and 1x1 convs become plain GEMMs. In place; returns `network`."""
    network.eval().requires_grad_(False)
    fuse_batch_norms(network)
    if channels_last:
        network.to(memory_format=torch.channels_last)
        network.memory_format = torch.channels_last
    return network
