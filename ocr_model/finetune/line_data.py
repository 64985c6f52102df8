"""Labelled text lines for fine-tuning, read from a folder and cut with the engine's own crop code.

Three folder layouts are accepted:
- images with a same-named ``.csv`` beside them (``receipt.jpg`` + ``receipt.csv``);
- SROIE's ``img/NNN.jpg`` + ``box/NNN.csv``;
- PaddleOCR's line crops: ``labels.tsv`` with ``path<TAB>text`` rows (paths relative to the folder).

A CSV row is ``x1,y1,x2,y2,x3,y3,x4,y4,TEXT``: a clockwise quadrilateral from the top-left corner, then the
transcription (which may itself hold commas: only the first eight commas split).

Every line is kept in two forms, both bounded in memory whatever the source image's size:
- `LineSample.patch`: the line's rectified crop with a margin of context around it, scaled so the line is
  at most `PATCH_LINE_HEIGHT` pixels tall; training cuts the line out of it again with
  `pipeline.crops.crop_quad` after jittering the corners (augmentation), so it goes through the same warp and
  resize as a line at inference;
- `LineSample.crop`: the line exactly as inference would feed it (engine crop with `crop_padding`, resized
  to the recognizer's height by `pipeline.lines.resize_line`), for validation.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..inputs.image_decode import IMAGE_EXTENSIONS, read_image
from ..pipeline.crops import VERTICAL_ASPECT, crop_quad
from ..pipeline.lines import resize_line

LABELS_FILE = "labels.tsv"
# Context kept around a line for geometric augmentation, as a fraction of its height on every side.
PATCH_MARGIN = 0.3
# Lines are stored at most this tall in their patch (rarely reached on receipts; bounds a 35 MP scan's lines).
PATCH_LINE_HEIGHT = 64
# Lines narrower or shorter than this (in source pixels) are noise in a label file, not text.
MIN_LINE_SIDE = 2


class DataError(ValueError):
    """A training file that cannot be used as it is; the message names the file and line."""


@dataclass(frozen=True)
class LabeledQuad:
    quad: np.ndarray  # (4, 2) float32, clockwise from top-left, source image pixels
    text: str
    where: str  # "file:line" for messages


@dataclass
class LineSample:
    text: str
    document: str  # the image (receipt) the line comes from: the unit of the train/validation split
    where: str
    crop: np.ndarray  # uint8 RGB, recognizer height, as inference feeds it
    patch: np.ndarray | None = None  # uint8 RGB context patch (None: crop-only sample, e.g. labels.tsv)
    inner: np.ndarray | None = None  # (4, 2) float32 the line's quad in `patch` coordinates
    # The transcription's letter case says nothing about the print's (SROIE writes every line in capitals):
    # the loss then counts a letter read in either case as right.
    fold_case: bool = False


@dataclass
class Dataset:
    lines: list[LineSample] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    source: str = ""


def _as_text(value: str) -> str:
    # NFKC as the recognizer's decoder writes its output; outer whitespace is layout, not text.
    return " ".join(unicodedata.normalize("NFKC", value).split())


def parse_line_csv(path: Path) -> list[LabeledQuad]:
    """Rows of one label CSV; DataError names the file and line of the first bad row."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    quads: list[LabeledQuad] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        parts = line.split(",", 8)
        if len(parts) < 9:
            raise DataError(
                f"{where}: expected 9 columns 'x1,y1,x2,y2,x3,y3,x4,y4,text', found {len(parts)}: {line[:80]!r}"
            )
        try:
            coords = [float(value) for value in parts[:8]]
        except ValueError:
            bad = next(value for value in parts[:8] if not _is_number(value))
            raise DataError(f"{where}: coordinate {bad.strip()!r} is not a number") from None
        if not all(math.isfinite(value) for value in coords):
            raise DataError(f"{where}: coordinates must be finite numbers")
        text = _as_text(parts[8])
        if not text:
            raise DataError(f"{where}: empty text (every box needs its transcription)")
        quad = np.array(coords, dtype=np.float32).reshape(4, 2)
        quads.append(LabeledQuad(quad, text, where))
    return quads


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def parse_labels_tsv(path: Path) -> list[tuple[Path, str, str]]:
    """(crop path, text, where) rows of a PaddleOCR `labels.tsv`."""
    rows: list[tuple[Path, str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        if "\t" not in line:
            raise DataError(f"{where}: expected 'path<TAB>text', found no tab: {line[:80]!r}")
        name, text = line.split("\t", 1)
        text = _as_text(text)
        if not text:
            raise DataError(f"{where}: empty text for {name!r}")
        crop_path = (path.parent / name.strip()).resolve()
        if not crop_path.is_relative_to(path.parent.resolve()):
            raise DataError(f"{where}: {name!r} is outside the folder {path.parent}")
        if not crop_path.is_file():
            raise DataError(f"{where}: image {name!r} not found")
        rows.append((crop_path, text, where))
    return rows


def find_labelled_images(folder: Path) -> list[tuple[Path, Path]]:
    """(image, csv) pairs of a folder: SROIE's img/ + box/, or images with same-named CSVs beside them."""
    if (folder / "img").is_dir() and (folder / "box").is_dir():
        image_dir, csv_dir = folder / "img", folder / "box"
    else:
        image_dir = csv_dir = folder
    pairs = []
    for image in sorted(image_dir.iterdir()):
        if image.suffix.lower() not in IMAGE_EXTENSIONS or image.name.startswith("."):
            continue
        label = csv_dir / f"{image.stem}.csv"
        if label.is_file():
            pairs.append((image, label))
    return pairs


def horizontal_quad(quad: np.ndarray) -> np.ndarray:
    """`quad` with its corners relabelled so that `crop_quad` cuts it without the vertical-text turn,
    giving the same pixels (turned 90° counter-clockwise) when the line is vertical."""
    width = max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2]))
    height = max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2]))
    if height >= VERTICAL_ASPECT * width:
        return np.roll(quad, -1, axis=0)
    return quad


def cut_patch(image: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The line's rectified patch with `PATCH_MARGIN` context, scaled so the line is at most
    `PATCH_LINE_HEIGHT` tall, and the line's quad in the patch's pixels."""
    quad = horizontal_quad(quad.astype(np.float32))
    patch = crop_quad(image, quad, padding=PATCH_MARGIN)
    height = (np.linalg.norm(quad[0] - quad[3]) + np.linalg.norm(quad[1] - quad[2])) / 2
    margin = PATCH_MARGIN * height
    width = max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2]))
    inner = np.array(
        [[margin, margin], [margin + width, margin], [margin + width, margin + height], [margin, margin + height]],
        dtype=np.float32,
    )
    scale = min(1.0, PATCH_LINE_HEIGHT / max(height, 1.0))
    if scale < 1.0:
        size = (max(1, round(patch.shape[1] * scale)), max(1, round(patch.shape[0] * scale)))
        inner = inner * np.array([size[0] / patch.shape[1], size[1] / patch.shape[0]], dtype=np.float32)
        patch = cv2.resize(patch, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(patch), inner


def inference_crop(crop: np.ndarray, height: int) -> np.ndarray:
    """A line crop resized as `prepare_line_batch` resizes it (so a batch of these is the same input)."""
    return np.ascontiguousarray(resize_line(crop, height, max_width=1 << 20))


def _quad_size(quad: np.ndarray) -> tuple[float, float]:
    width = max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2]))
    height = max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2]))
    return float(width), float(height)


def load_folder(folder: str | Path, *, height: int = 48, crop_padding: float = 0.08) -> Dataset:
    """Every labelled line of `folder` (see the module docstring for the layouts).

    Images are decoded one at a time and only their lines are kept. Raises DataError for a bad label file
    or an unreadable image, and when the folder holds no labelled line at all.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    dataset = Dataset(source=str(folder))
    labels = folder / LABELS_FILE
    if labels.is_file():
        for crop_path, text, where in parse_labels_tsv(labels):
            crop = _read(crop_path, where)
            document = str(crop_path.relative_to(folder.resolve()))
            dataset.lines.append(LineSample(text, document, where, inference_crop(crop, height)))
            dataset.documents.append(document)
        return _non_empty(dataset, folder)
    pairs = find_labelled_images(folder)
    for image_path, label_path in pairs:
        quads = parse_line_csv(label_path)
        image = _read(image_path, str(image_path))
        document = image_path.stem
        dataset.documents.append(document)
        for labelled in quads:
            width, line_height = _quad_size(labelled.quad)
            if min(width, line_height) < MIN_LINE_SIDE:
                raise DataError(f"{labelled.where}: box is {width:.0f}x{line_height:.0f} px, too small to hold text")
            crop = crop_quad(image, labelled.quad, padding=crop_padding)
            patch, inner = cut_patch(image, labelled.quad)
            dataset.lines.append(
                LineSample(labelled.text, document, labelled.where, inference_crop(crop, height), patch, inner)
            )
        del image
    return _non_empty(dataset, folder)


def _read(path: Path, where: str) -> np.ndarray:
    try:
        return read_image(path)
    except (OSError, ValueError) as error:
        raise DataError(f"{where}: cannot read image {path.name}: {error}") from error


def _non_empty(dataset: Dataset, folder: Path) -> Dataset:
    if not dataset.lines:
        raise DataError(
            f"{folder}: no labelled lines found (expected images with same-named .csv files, "
            f"img/ + box/, or a {LABELS_FILE})"
        )
    return dataset


# ----------------------------------------------------------------------------------------------
# Characters the checkpoint cannot emit


@dataclass(frozen=True)
class CharacterReport:
    kept: list[LineSample]
    dropped: list[LineSample]
    unknown: dict[str, int]  # character -> number of lines it appears in

    def message(self, shown: int = 10) -> str:
        listed = ", ".join(f"{char!r} (U+{ord(char):04X}, {count} lines)" for char, count in sorted(self.unknown.items()))
        lines = [f"  {sample.where}: {sample.text!r}" for sample in self.dropped[:shown]]
        if len(self.dropped) > shown:
            lines.append(f"  ... and {len(self.dropped) - shown} more")
        return "\n".join(
            [f"{len(self.dropped)} line(s) use characters the checkpoint cannot emit: {listed}", *lines]
        )


def check_characters(lines: Sequence[LineSample], alphabet: set[str]) -> CharacterReport:
    """Split lines into those the checkpoint's character list can spell and the others."""
    kept, dropped, unknown = [], [], {}
    for sample in lines:
        missing = {char for char in sample.text if char not in alphabet}
        if missing:
            dropped.append(sample)
            for char in missing:
                unknown[char] = unknown.get(char, 0) + 1
        else:
            kept.append(sample)
    return CharacterReport(kept, dropped, unknown)


def labels_ignore_case(lines: Sequence[LineSample]) -> bool:
    """Whether transcriptions look upper-cased regardless of the print: many letters, no lower-case one."""
    letters = [char for sample in lines for char in sample.text if char.isalpha() and char.upper() != char.lower()]
    return len(letters) >= 20 and not any(char.islower() for char in letters)


def split_by_document(
    dataset: Dataset, fraction: float, seed: int
) -> tuple[list[LineSample], list[LineSample], list[str]]:
    """(train lines, validation lines, validation documents): whole documents go to validation, never
    single lines of a document that is also trained on (that would measure memorisation)."""
    documents = sorted(set(dataset.documents))
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the validation fraction must be between 0 and 1, got {fraction}")
    if len(documents) < 2:
        raise DataError(
            f"{dataset.source}: only {len(documents)} image(s); a split by image needs at least 2 (or pass --val DIR)"
        )
    order = np.random.default_rng(seed).permutation(len(documents))
    count = min(len(documents) - 1, max(1, round(fraction * len(documents))))
    held_out = sorted(documents[i] for i in order[:count])
    held = set(held_out)
    train = [line for line in dataset.lines if line.document not in held]
    val = [line for line in dataset.lines if line.document in held]
    return train, val, held_out
