"""The fine-tuner's one contact with checkpoints: load a base recognizer, write a trained one.

`load_recognizer(name_or_path)` returns the trainable module (forward = logits), its character list and the
base's header; `save_recognizer` writes the module back as a checkpoint, atomically (a temporary file in the
same folder, then `os.replace`), so an interrupted write never leaves a half file under the target name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

DEFAULT_BASE = "ppocrv6-small"
ARCHITECTURE = "ppocrv6-recognizer"
FORMAT_KEY = "ocr_model"


@dataclass
class RecognizerCheckpoint:
    network: nn.Module  # (N, 3, 48, W) normalised BGR -> (N, T, classes) logits
    characters: list[str]  # class i + 1 = characters[i]; one class more than len + 1 is the space
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)


def load_recognizer(name_or_path: str | os.PathLike[str] = DEFAULT_BASE) -> RecognizerCheckpoint:
    """The base recognizer to fine-tune, in float32 on the CPU, in eval mode."""
    text = str(name_or_path)
    if text == DEFAULT_BASE:
        from ..networks import model_files
        from ..networks.onnx_import import load_onnx_weights
        from ..networks.onnx_weights import read_character_list
        from ..networks.recognizer import PPOCRV6_SMALL, Recognizer

        network = Recognizer(PPOCRV6_SMALL).eval()
        onnx_file = model_files.recognition_model_path()
        load_onnx_weights(network, onnx_file)
        metadata = {"name": DEFAULT_BASE, "source": f"{model_files.WEIGHTS_PACKAGE_PIN} {model_files.RECOGNITION_FILE}"}
        return RecognizerCheckpoint(network, read_character_list(onnx_file), DEFAULT_BASE, metadata)
    path = Path(text)
    if not path.is_file():
        raise FileNotFoundError(f"no built-in recognizer {text!r} and no file at {path}")
    return _read_safetensors(path)


def _config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def _config_from_dict(values: dict[str, Any]) -> Any:
    from ..networks.backbone import BackboneConfig, StageConfig
    from ..networks.recognizer import RecognizerConfig

    backbone = dict(values["backbone"])
    backbone["stages"] = tuple(
        StageConfig(
            stage["channels"], stage["blocks"], tuple(stage["stride"]), tuple(stage["se"])
        )
        for stage in backbone["stages"]
    )
    rest = {key: tuple(value) if isinstance(value, list) else value for key, value in values.items() if key != "backbone"}
    return RecognizerConfig(backbone=BackboneConfig(**backbone), **rest)


def _read_safetensors(path: Path) -> RecognizerCheckpoint:
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    from ..networks.recognizer import Recognizer

    try:
        with safe_open(str(path), framework="pt") as handle:
            header = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise ValueError(f"{path}: not a safetensors checkpoint ({error})") from error
    if FORMAT_KEY not in header:
        raise ValueError(f"{path}: no '{FORMAT_KEY}' header; not a checkpoint written by this project")
    info = json.loads(header[FORMAT_KEY])
    if info.get("architecture") != ARCHITECTURE:
        raise ValueError(f"{path}: architecture {info.get('architecture')!r} is not {ARCHITECTURE!r}")
    network = Recognizer(_config_from_dict(info["config"])).eval()
    network.load_state_dict(load_file(str(path)), strict=True)
    metadata = {key: value for key, value in info.items() if key not in ("config", "characters", "architecture")}
    return RecognizerCheckpoint(network, list(info["characters"]), str(info.get("name", path.stem)), metadata)


def save_recognizer(checkpoint: RecognizerCheckpoint, path: str | os.PathLike[str], metadata: dict[str, Any]) -> Path:
    """Write `checkpoint.network` with `metadata` in its header to `path`, atomically."""
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {
        **metadata,
        "architecture": ARCHITECTURE,
        "config": _config_to_dict(checkpoint.network.config),
        "characters": checkpoint.characters,
    }
    tensors = {name: tensor.detach().to("cpu").contiguous() for name, tensor in checkpoint.network.state_dict().items()}
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        save_file(tensors, temporary, metadata={FORMAT_KEY: json.dumps(info, ensure_ascii=False)})
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
