"""The three PP-OCR networks as torch ``nn.Module``s, built from the rapidocr ONNX files.

>>> det = load_detection_network()       # (N, 3, H, W) -> (N, 1, H, W) text probability map
>>> rec = load_recognition_network()     # (N, 3, 48, W) -> (N, T, 18710) CTC probabilities
>>> cls = load_orientation_network()     # (N, 3, 48, 192) -> (N, 2) probabilities of [0°, 180°]
>>> chars = load_character_list()        # CTC class i + 1 is chars[i]; 0 is the blank; 18709 is " "

All three take float32 images in **BGR** channel order (as rapidocr feeds them), normalised as
``(pixel / 255 - 0.5) / 0.5``. Run them under ``torch.inference_mode()``. ``rec.logits(x)`` gives
the pre-softmax scores and ``rec.best_classes(x)`` the greedy (class, probability) per time step.

How they run: :mod:`ocr_model.networks.onnx_weights` reads the ONNX graph and weights,
:mod:`.fusion` rewrites the graph into fused operators (conv+BN+bias+activation, GELU, LayerNorm,
attention, ...), :mod:`.graph_module` executes it with torch functions, the weights being buffers.
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
