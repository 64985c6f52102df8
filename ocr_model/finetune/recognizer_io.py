"""The fine-tuner's one contact with checkpoints (`ocr_model.checkpoints`): load a base, write the result.

`load_recognizer(name_or_path)` loads a built-in name or a `.safetensors` checkpoint and hands out its
recognizer module (forward = logits) for training, with the character list and the rest of the checkpoint.
`save_recognizer` writes a checkpoint in the project's format, so it loads everywhere a built-in does: the
Model dropdown, `--checkpoint`, `OCR_CHECKPOINT_DIR`, `get_model(checkpoint=...)`. By default (`base` given)
it holds the tuned recognizer only (float16: ~10 MB for ppocrv6-small's) and names the base whose detector
and orientation classifier it runs with; without `base`, the base's networks are written beside it (a full
checkpoint, 31.6 MB float32 for ppocrv6-small). The recognition settings chosen on validation (`recognition`)
and the fine-tuning record (`base`, `finetune`: data, epochs, validation numbers) go to the same JSON header.
The file is written to a temporary name in the target folder, then moved into place with `os.replace`, so an
interrupted write never leaves a half file under the target name.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..checkpoints import DEFAULT_CHECKPOINT, Checkpoint, built_in_checkpoints, load_checkpoint, read_header, save_checkpoint

DEFAULT_BASE = DEFAULT_CHECKPOINT
# Header keys the fine-tuner adds beside the checkpoint format's own.
EXTRA_KEYS = ("finetune",)


@dataclass
class RecognizerCheckpoint:
    network: nn.Module  # (N, 3, 48, W) normalised BGR -> (N, T, classes) logits
    characters: list[str]  # class i + 1 = characters[i]; one class more than len + 1 is the space
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)
    base: Checkpoint | None = None  # its detector and orientation classifier are written beside the recognizer
    # How a checkpoint can name this one as its base: a built-in name, or the file's stem (a file beside it).
    reference: str = ""

    @property
    def recognition(self) -> dict[str, Any]:
        """The recognition settings this checkpoint is read with ({}: the engine's)."""
        return dict(self.base.recognition) if self.base is not None else {}


def load_recognizer(name_or_path: str | os.PathLike[str] = DEFAULT_BASE) -> RecognizerCheckpoint:
    """The base to fine-tune (float32, CPU, eval mode). Raises ocr_model.checkpoints.CheckpointError."""
    checkpoint = load_checkpoint(name_or_path)
    metadata: dict[str, Any] = {
        "name": checkpoint.name,
        "description": checkpoint.description,
        "source": checkpoint.source,
        "licence": checkpoint.licence,
    }
    if checkpoint.path is not None:
        header = read_header(checkpoint.path)
        metadata.update({key: header[key] for key in ("base", *EXTRA_KEYS) if key in header})
    reference = str(name_or_path) if str(name_or_path) in built_in_checkpoints() else Path(name_or_path).stem
    return RecognizerCheckpoint(
        checkpoint.recognizer, checkpoint.characters, checkpoint.name, metadata, checkpoint, reference
    )


def compact_base(recognizer: RecognizerCheckpoint, out_path: str | os.PathLike[str]) -> str:
    """The base a recognizer-only checkpoint of `recognizer` written at `out_path` names: a built-in name, or
    the stem of the base's file, which must then be in the same folder (a ValueError says so otherwise).
    A base that is itself recognizer-only passes on its own base (the same detector)."""
    source = recognizer.base
    if source is None:
        raise ValueError("a checkpoint needs its base: load the base with load_recognizer")
    name = source.base if source.base is not None else recognizer.reference
    if name in built_in_checkpoints():
        return name
    folder = source.path.parent if source.path is not None else None
    if folder is None or folder.resolve() != Path(out_path).resolve().parent:
        raise ValueError(
            f"a recognizer-only checkpoint names its base by file name, so it must be written beside "
            f"{name}.safetensors (in {folder}); write --out there, or pass --full-checkpoint"
        )
    return name


def save_recognizer(
    recognizer: RecognizerCheckpoint,
    path: str | os.PathLike[str],
    metadata: dict[str, Any],
    *,
    base: str | None = None,
    dtype: torch.dtype = torch.float32,
    recognition: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint of `recognizer` to `path`, atomically: the recognizer only, naming `base` (a
    built-in name or the stem of a full checkpoint file in the same folder), or without `base` a full
    checkpoint with the base's detector and orientation classifier.

    `metadata`: `name`, `description`, `source`, `licence` go to the format's own fields (defaults from the
    base); `finetune` is added to the header as it is (and `base`, as a record, in a full checkpoint).
    `recognition`: the settings the engine reads it with (default: the base's own)."""
    if recognizer.base is None:
        raise ValueError("a checkpoint needs its base: load the base with load_recognizer")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = recognizer.base
    model = Checkpoint(
        name=str(metadata.get("name") or path.stem),
        detector=source.detector,
        recognizer=recognizer.network,
        characters=list(recognizer.characters),
        orientation=source.orientation,
        description=str(metadata.get("description", source.description)),
        source=str(metadata.get("source", source.source)),
        licence=str(metadata.get("licence", source.licence)),
        recognition=dict(recognizer.recognition if recognition is None else recognition),
    )
    extra = {key: metadata[key] for key in EXTRA_KEYS if key in metadata}
    if base is None and "base" in metadata:
        extra["base"] = metadata["base"]
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".safetensors", dir=path.parent)
    os.close(descriptor)
    try:
        save_checkpoint(model, temporary, base=base, dtype=dtype, extra=extra)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
