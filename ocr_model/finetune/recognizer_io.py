"""The fine-tuner's one contact with checkpoints (`ocr_model.checkpoints`): load a base, write the result.

`load_recognizer(name_or_path)` loads a built-in name or a `.safetensors` checkpoint and hands out its
recognizer module (forward = logits) for training, with the character list and the rest of the checkpoint.
`save_recognizer` writes a full checkpoint in the project's format (the base's detector and orientation
classifier, the tuned recognizer), so it loads everywhere a built-in does: the Model dropdown, `--checkpoint`,
`OCR_CHECKPOINT_DIR`. The fine-tuning record (base, data, epochs, validation numbers) is added to the same
JSON header under `finetune`. The file is written to a temporary name in the target folder, then moved into
place with `os.replace`, so an interrupted write never leaves a half file under the target name.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from ..checkpoints import DEFAULT_CHECKPOINT, Checkpoint, load_checkpoint, read_header, save_checkpoint

DEFAULT_BASE = DEFAULT_CHECKPOINT
# Header keys the fine-tuner adds beside the checkpoint format's own.
EXTRA_KEYS = ("base", "finetune")


@dataclass
class RecognizerCheckpoint:
    network: nn.Module  # (N, 3, 48, W) normalised BGR -> (N, T, classes) logits
    characters: list[str]  # class i + 1 = characters[i]; one class more than len + 1 is the space
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)
    base: Checkpoint | None = None  # its detector and orientation classifier are written beside the recognizer


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
        metadata.update({key: header[key] for key in EXTRA_KEYS if key in header})
    return RecognizerCheckpoint(checkpoint.recognizer, checkpoint.characters, checkpoint.name, metadata, checkpoint)


def save_recognizer(recognizer: RecognizerCheckpoint, path: str | os.PathLike[str], metadata: dict[str, Any]) -> Path:
    """Write a checkpoint of `recognizer` (with its base's other networks) to `path`, atomically.

    `metadata`: `name`, `description`, `source`, `licence` go to the format's own fields (defaults from the
    base); `base` and `finetune` are added to the header as they are."""
    from safetensors.torch import load_file, save_file

    from ..checkpoints import METADATA_KEY

    if recognizer.base is None:
        raise ValueError("a checkpoint needs the base's detector: load the base with load_recognizer")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    base = recognizer.base
    full = Checkpoint(
        name=str(metadata.get("name") or path.stem),
        detector=base.detector,
        recognizer=recognizer.network,
        characters=list(recognizer.characters),
        orientation=base.orientation,
        description=str(metadata.get("description", base.description)),
        source=str(metadata.get("source", base.source)),
        licence=str(metadata.get("licence", base.licence)),
    )
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".safetensors", dir=path.parent)
    os.close(descriptor)
    try:
        save_checkpoint(full, temporary)
        extra = {key: metadata[key] for key in EXTRA_KEYS if key in metadata}
        if extra:  # the format's writer takes no extra fields: add them to its header, same tensors
            header = read_header(temporary)
            header.update(extra)
            tensors = load_file(temporary)
            save_file(tensors, temporary, metadata={METADATA_KEY: json.dumps(header, ensure_ascii=False)})
            del tensors
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
