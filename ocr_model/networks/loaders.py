"""Build the detection, recognition and orientation networks from the rapidocr ONNX files.

Input convention shared by the three networks (it is what rapidocr feeds them):
float32, channels in **BGR** order (rapidocr converts RGB images to BGR before running the
models, as OpenCV would load them), each value ``(pixel / 255 - 0.5) / 0.5``, i.e. in [-1, 1].
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from . import model_files
from .onnx_weights import OnnxGraph, read_character_list, read_onnx_graph

from .fusion import optimize_graph
from .graph_module import OnnxGraphModule

DETECTION_STRIDE = 32  # the detector downsamples 5 times; H and W must be multiples of this
RECOGNITION_HEIGHT = 48  # the recogniser's fixed input height
RECOGNITION_CLASSES = 18710  # CTC blank + 18,708 characters + space


# oneDNN's native layout: depthwise/3x3 convolutions skip two reorders per call and the 1x1
# convolutions become plain GEMMs on (pixels, channels) matrices. Measured faster on all three.
MEMORY_FORMAT = torch.channels_last


def _weights_dtype(module: nn.Module) -> torch.dtype:
    return next(module.parameters()).dtype


def _check_images(x: torch.Tensor, network: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{network} expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"{network} expects a (N, 3, H, W) tensor, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{network} expects a floating point tensor, got {x.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{network} got an empty batch; skip the call when there is nothing to process")


class DetectionNetwork(nn.Module):
    """DB text detector: (N, 3, H, W) normalised BGR images -> (N, 1, H, W) text probabilities.

    H and W must be multiples of 32.
    """

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, "the detection network")
        height, width = x.shape[2:]
        if height % DETECTION_STRIDE or width % DETECTION_STRIDE or height == 0 or width == 0:
            raise ValueError(
                f"the detection network needs H and W to be positive multiples of {DETECTION_STRIDE}, "
                f"got {height}x{width}"
            )
        return self.body(x.to(dtype=_weights_dtype(self), memory_format=MEMORY_FORMAT))


class RecognitionNetwork(nn.Module):
    """CTC text-line recogniser: (N, 3, 48, W) -> (N, T, 18710) with T = ceil(W / 8).

    ``forward`` returns softmax probabilities like the ONNX model; ``logits`` returns the
    pre-softmax scores (argmax is the same; confidence = exp(max - logsumexp)).
    Class 0 is the CTC blank, class i + 1 is ``load_character_list()[i]``, the last class is " ".
    """

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, "the recognition network")
        if x.shape[2] != RECOGNITION_HEIGHT or x.shape[3] == 0:
            raise ValueError(
                f"the recognition network needs (N, 3, {RECOGNITION_HEIGHT}, W>0) inputs, got {tuple(x.shape)}"
            )
        return self.body(x.to(dtype=_weights_dtype(self), memory_format=MEMORY_FORMAT))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(x), dim=-1)

    def best_classes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Greedy CTC inputs without a full softmax: per time step, the most likely class
        (N, T) int64 and its probability (N, T) float, i.e. ``forward(x).max(-1)``."""
        scores = self.logits(x)
        best_score, best_class = scores.max(dim=-1)
        return best_class, torch.exp(best_score - torch.logsumexp(scores, dim=-1))


class OrientationNetwork(nn.Module):
    """Text-line orientation classifier: (N, 3, 48, 192) -> (N, 2) probabilities of [0°, 180°]."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images(x, "the orientation network")
        return self.body(x.to(dtype=_weights_dtype(self), memory_format=MEMORY_FORMAT))


def _load_graph(path: str | Path | None, default: Path) -> OnnxGraph:
    path = Path(path) if path is not None else default
    if not path.is_file():
        raise FileNotFoundError(f"ONNX model file not found: {path}")
    return read_onnx_graph(path)


def _without_final_softmax(graph: OnnxGraph) -> OnnxGraph:
    """Make the graph output the scores that its last node (a last-axis Softmax) normalises."""
    last = graph.nodes[-1]
    if last.op_type != "Softmax" or last.outputs[0] != graph.output_name or last.attributes.get("axis") not in (2, -1):
        raise ValueError("the recognition graph does not end with a softmax over the classes")
    graph.nodes = graph.nodes[:-1]
    graph.output_name = last.inputs[0]
    return graph


def _build(graph: OnnxGraph) -> nn.Module:
    return OnnxGraphModule(optimize_graph(graph)).eval()


def load_detection_network(path: str | Path | None = None) -> DetectionNetwork:
    """The PP-OCRv6 small DB detector, on CPU, float32, in eval mode."""
    graph = _load_graph(path, model_files.detection_model_path() if path is None else Path(path))
    return DetectionNetwork(_build(graph)).eval()


def load_recognition_network(path: str | Path | None = None) -> RecognitionNetwork:
    """The PP-OCRv6 small CTC recogniser, on CPU, float32, in eval mode."""
    graph = _load_graph(path, model_files.recognition_model_path() if path is None else Path(path))
    return RecognitionNetwork(_build(_without_final_softmax(graph))).eval()


def load_orientation_network(path: str | Path | None = None) -> OrientationNetwork:
    """The PP-OCR mobile v2.0 text-line orientation classifier, on CPU, float32, in eval mode."""
    graph = _load_graph(path, model_files.orientation_model_path() if path is None else Path(path))
    return OrientationNetwork(_build(graph)).eval()


def load_character_list(path: str | Path | None = None) -> list[str]:
    """The 18,708 recognition characters, read from the rec ONNX file's ``character`` metadata.

    CTC class layout of the recognition output (C = len(chars) + 2 = 18710):
    class 0 = blank, class i + 1 = chars[i] for i in [0, len(chars)), class C - 1 = " " (space).
    """
    path = Path(path) if path is not None else model_files.recognition_model_path()
    return read_character_list(path)
