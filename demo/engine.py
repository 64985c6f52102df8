"""The one place where the app talks to the OCR engine: loading and per-call options."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ocr_model.types import Predictions

ORIENTATION_CHOICES = ("auto", "all", "off")
# Page rotation choices of the "Orientation" option: (label, value); the value is the engine's
# `page_rotation` (clockwise degrees applied before reading, or "auto").
PAGE_ROTATION_CHOICES = (
    ("auto", "auto"),
    ("as uploaded", "0"),
    ("turn 90° clockwise", "90"),
    ("turn 180°", "180"),
    ("turn 90° counter-clockwise", "270"),
)
DEFAULT_DETECTION_SIZE = 1600
LOGGER = logging.getLogger(__name__)


class OcrEngine(Protocol):
    device: Any

    def predict(self, image: np.ndarray, **options: Any) -> Predictions: ...


def model_options(orientation: str, detection_size: int | float, page_rotation: str = "auto") -> dict[str, Any]:
    """Translate the UI's option widgets into `predict(**options)` keyword arguments."""
    if orientation not in ORIENTATION_CHOICES:
        raise ValueError(f"orientation must be one of {ORIENTATION_CHOICES}, got {orientation!r}")
    rotations = {value for _, value in PAGE_ROTATION_CHOICES}
    if page_rotation not in rotations:
        raise ValueError(f"page rotation must be one of {sorted(rotations)}, got {page_rotation!r}")
    options: dict[str, Any] = {"orientation": orientation, "det_max_side": int(detection_size)}
    if page_rotation != "auto":
        options["page_rotation"] = int(page_rotation)
    return options


def device_name(engine: OcrEngine) -> str:
    return str(getattr(engine, "device", "unknown"))


def is_out_of_memory(error: BaseException) -> bool:
    """True when the engine ran the accelerator (or the host) out of memory. No torch import in demo/."""
    from ocr_model.runtime import is_out_of_memory as engine_out_of_memory

    return engine_out_of_memory(error)


def release_memory() -> None:
    """Give cached accelerator memory back after an out-of-memory error (no-op work on CPU)."""
    from ocr_model.runtime import release_accelerator_memory

    release_accelerator_memory()


# ---------------------------------------------------------------------------------------------------------
# Checkpoints the app offers. Clients choose by NAME only; a name resolves to a file solely through this
# list, built at startup from the built-ins and the operator's checkpoint folder, so no request field can
# make the server open a path.

# What the README's checkpoint tables measured for the built-ins (sroie-dev, 19 receipts, quiet 2-core machines,
# 2026-12-03), for the Model dropdown, by how this server's CPU runs the networks: "bfloat16" on an Intel Xeon
# with AVX512-BF16/AMX, "float32" on an AMD EPYC without bf16 (AVX2). The speed-up of tiny differs (1.9x vs
# 2.6-2.7x: in float32 the recognizer, where tiny saves most, is a larger share of the time), so a server shows the
# figures of its own kind; an accelerator or a forced OCR_PRECISION gets the word F1 only ("other").
# Re-measure and update the README's tables and these together.
BUILT_IN_NOTES: dict[str, dict[str, str]] = {
    "bfloat16": {
        "ppocrv6-small": "reads better (word F1 0.924, 0.61 s per receipt on a CPU with bf16)",
        "ppocrv6-tiny": "1.9x faster, reads less well (word F1 0.860, 0.32 s per receipt on a CPU with bf16)",
        "ppocrv6-small-receipts": (
            "for receipts: word F1 0.941 vs small's 0.931 on receipts it was not tuned on (14/5 split), "
            "0.59 s per receipt on a CPU with bf16"
        ),
    },
    "float32": {
        "ppocrv6-small": "reads better (word F1 0.922, 2.2 s per receipt on a CPU without bf16)",
        "ppocrv6-tiny": "2.6x faster, reads less well (word F1 0.865, 0.83 s per receipt on a CPU without bf16)",
        "ppocrv6-small-receipts": (
            "for receipts: word F1 0.941 vs small's 0.931 on receipts it was not tuned on (14/5 split, read in bf16), "
            "2.1 s per receipt on a CPU without bf16"
        ),
    },
    "other": {
        "ppocrv6-small": "reads better (word F1 0.924)",
        "ppocrv6-tiny": "faster, reads less well (word F1 0.860)",
        "ppocrv6-small-receipts": "for receipts: word F1 0.941 vs small's 0.931 on receipts it was not tuned on (14/5 split)",
    },
}
_DESCRIPTION_CHARS = 160  # a header's free text shown in a one-line description is cut to this


class UnknownCheckpoint(ValueError):
    """A checkpoint name that is not one of the app's choices (the message lists the choices, no paths)."""


@dataclass(frozen=True)
class CheckpointChoice:
    """One checkpoint the app offers: `name` (built-in name or file stem), a one-line description, and
    the file it is loaded from (None: a built-in, loaded by its name)."""

    name: str
    description: str
    path: Path | None = None

    @property
    def label(self) -> str:
        """The dropdown's text: name and description."""
        return f"{self.name} — {self.description}" if self.description else self.name


@dataclass(frozen=True)
class CheckpointChoices:
    """The app's checkpoints, the default first, plus the files that were left out and why."""

    choices: tuple[CheckpointChoice, ...]
    default: str
    problems: tuple[str, ...] = ()

    def names(self) -> list[str]:
        return [choice.name for choice in self.choices]

    def resolve(self, name: str | None) -> CheckpointChoice:
        """The choice called `name` (None or "" means the default); UnknownCheckpoint otherwise.

        Only an exact name from the list is accepted: a path, a stem with other case or spacing is not."""
        wanted = self.default if name is None or name == "" else name
        for choice in self.choices:
            if isinstance(wanted, str) and choice.name == wanted:
                return choice
        shown = repr(wanted[:60] if isinstance(wanted, str) else type(wanted).__name__)
        raise UnknownCheckpoint(f"unknown checkpoint {shown}; choose one of {', '.join(self.names())}")

    def dropdown_choices(self) -> list[tuple[str, str]]:
        """(label, name) per choice, for a dropdown."""
        return [(choice.label, choice.name) for choice in self.choices]


def _one_line(text: Any) -> str:
    """Header text (from a file someone dropped in the folder) as a short printable line."""
    line = " ".join("".join(c if c.isprintable() else " " for c in str(text or "")).split())
    return line if len(line) <= _DESCRIPTION_CHARS else line[: _DESCRIPTION_CHARS - 1] + "…"


def _size(num_bytes: int) -> str:
    return f"{num_bytes / 2**20:.1f} MB" if num_bytes >= 2**20 else f"{max(1, round(num_bytes / 2**10))} KB"


def _file_choice(path: Path, name: str, where: str) -> CheckpointChoice:
    """A checkpoint file as a choice, described from its header only (its tensors are not read);
    CheckpointError (a ValueError) when the header is not an OCR checkpoint's."""
    from ocr_model.checkpoints import read_header

    header = read_header(path)
    parts = [_one_line(header.get("description")) or "no description", _size(path.stat().st_size), where]
    source = _one_line(header.get("source"))
    if source:
        parts.append(f"source: {source}")
    return CheckpointChoice(name=name, description=" · ".join(parts), path=path)


def notes_kind(device: str | None = "auto") -> str:
    """Which of BUILT_IN_NOTES fits a server placing its models on `device` ("auto": CUDA when available, else
    the CPU): "bfloat16" or "float32" for a CPU running the networks as measured, "other" otherwise."""
    from ocr_model.runtime import cpu_has_native_bfloat16, select_device, select_precision

    resolved = select_device(device)
    if resolved.split(":")[0] != "cpu":
        return "other"
    precision = str(select_precision(resolved)).removeprefix("torch.")
    if precision == "bfloat16" and cpu_has_native_bfloat16():
        return "bfloat16"
    if precision == "float32" and not cpu_has_native_bfloat16():
        return "float32"
    return "other"


def _built_in_choices(notes: dict[str, str]) -> list[CheckpointChoice]:
    from ocr_model.checkpoints import list_checkpoints

    choices = []
    for info in list_checkpoints():
        parts = [_one_line(info.description.replace(" (default)", ""))]
        if info.file_bytes:
            parts.append(_size(info.file_bytes))
        parts.append("built in")
        if info.name in notes:
            parts.append(notes[info.name])
        choices.append(CheckpointChoice(name=info.name, description=" · ".join(parts)))
    return choices


def checkpoint_choices(
    default: str, directory: str | os.PathLike[str] | None = None, device: str | None = "auto"
) -> CheckpointChoices:
    """The built-ins plus every `*.safetensors` in `directory` (named by file stem), default first.

    A file whose header is not an OCR checkpoint's, or whose stem is already taken, is left out and
    reported in `problems` (the app starts without it). `default` is a choice's name or a path to a
    .safetensors file, which then joins the choices under its stem; a default that is neither, or a
    broken default file, raises ValueError: the app cannot start without its default. The built-ins'
    descriptions carry the measured figures for `device`'s kind of processor (`notes_kind`)."""
    choices = {choice.name: choice for choice in _built_in_choices(BUILT_IN_NOTES[notes_kind(device)])}
    problems: list[str] = []
    if directory:
        folder = Path(directory).expanduser()
        if not folder.is_dir():
            problems.append(f"checkpoint folder {folder} is not a folder; no checkpoints added from it")
        else:
            for path in sorted(folder.glob("*.safetensors")):
                if not path.is_file():
                    continue
                if path.stem in choices:
                    problems.append(f"{path} left out: the name {path.stem!r} is already taken")
                    continue
                try:
                    choices[path.stem] = _file_choice(path, path.stem, "in the checkpoint folder")
                except (ValueError, OSError) as error:
                    problems.append(f"{path} left out: {error}")
    if default not in choices:
        path = Path(default).expanduser()
        if path.suffix != ".safetensors" or not path.is_file():
            raise ValueError(
                f"checkpoint {default!r} is neither one of {', '.join(choices)} nor a .safetensors file"
            )
        resolved = path.resolve()
        same = [choice for choice in choices.values() if choice.path is not None and choice.path.resolve() == resolved]
        if same:
            default = same[0].name
        elif path.stem in choices:
            raise ValueError(f"checkpoint file {path}: the name {path.stem!r} is already taken; rename the file")
        else:
            choices[path.stem] = _file_choice(path, path.stem, "given with --checkpoint")
            default = path.stem
    ordered = [choices[default]] + [choice for name, choice in choices.items() if name != default]
    return CheckpointChoices(choices=tuple(ordered), default=default, problems=tuple(problems))


@dataclass(frozen=True)
class NamedEngine:
    """An engine whose results name the checkpoint chosen in the app (a folder file's stem, which may
    differ from the name inside its header)."""

    model: OcrEngine
    checkpoint: str

    @property
    def device(self) -> Any:
        return self.model.device

    def predict(self, image: np.ndarray, **options: Any) -> Predictions:
        return replace(self.model.predict(image, **options), checkpoint=self.checkpoint)


class Models:
    """The app's checkpoint choices and their engines: `engine(name)` resolves a client's name through
    the list only, then asks `load` for that checkpoint's model (the engine's bounded LRU of
    process-wide models; tests pass a fake). One model per call, used in the caller's thread."""

    def __init__(self, choices: CheckpointChoices, load: Callable[[CheckpointChoice], OcrEngine]) -> None:
        self.choices = choices
        self._load = load

    def engine(self, name: str | None = None) -> NamedEngine:
        choice = self.choices.resolve(name)  # UnknownCheckpoint before anything is loaded
        return NamedEngine(self._load(choice), choice.name)

    @classmethod
    def fixed(cls, engine: OcrEngine, choices: CheckpointChoices | None = None) -> "Models":
        """Every choice answered by one given engine (tests, or a model passed to build_demo); without
        `choices`, a single choice named after the engine's checkpoint ("model" when it has none)."""
        if choices is None:
            name = str(getattr(engine, "checkpoint", "") or "model")
            choices = CheckpointChoices((CheckpointChoice(name, "the engine this app was built with"),), name)
        return cls(choices, lambda _choice: engine)


def load_models(checkpoint: str, checkpoint_dir: str | None = None, device: str = "auto") -> Models:
    """The app's checkpoints (see `checkpoint_choices`), with the default's model loaded now (call at
    startup, not per request); the others load on first use. Every model is placed on `device` (the app's
    --device / OCR_DEVICE setting; "auto": CUDA when available, else CPU), passed down as an argument."""
    from ocr_model import get_model

    choices = checkpoint_choices(checkpoint, checkpoint_dir, device)
    for problem in choices.problems:
        LOGGER.warning("checkpoint %s", problem)

    def load(choice: CheckpointChoice) -> OcrEngine:
        return get_model(checkpoint=choice.path if choice.path is not None else choice.name, device=device)

    models = Models(choices, load)
    LOGGER.info("checkpoints offered: %s (default %s)", ", ".join(choices.names()), choices.default)
    models.engine(None)
    return models
