"""Bulk outputs: where each format of one input goes (`a/b.jpg` -> `OUT/a/b.jpg.json`; the formats and the
naming rule are ocr_model/exporters/formats.py, shared with the app), atomic writes (a temp file in the same folder, fsynced, renamed over the target: a run that is killed never
leaves a half-written file where a finished one is expected), and the per-input manifest written last
(`write_outputs`) that `is_complete`, and so `--resume`, trusts.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Sequence

from ..exporters.formats import LONGEST_SUFFIX, ExportDocument, ExportFormat, export_name, fit_base
from ..exporters.pdf import PdfPage
from ..exporters.records import PageResult, document_record


# Longest final output name, in bytes: a file system allows 255, and the temp file beside it
# (`.NAME.PID.tmp`) adds up to 13. The input's name is cut before the suffix (exporters.formats.fit_base).
MAX_OUTPUT_NAME_BYTES = 240


def displayable(file: str) -> str:
    """A file name as text: bytes that are not UTF-8 (lone surrogates in Python's str) become U+FFFD, so the
    JSON, text and hOCR writers never fail on a name the file system allowed."""
    return file.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def export_document(file: str, pages: Sequence[PageResult]) -> ExportDocument:
    """What the writers need of one input: its JSON record, and its pages' images when they were kept."""
    file = displayable(file)
    kept = bool(pages) and all(page.image is not None for page in pages)
    return ExportDocument(
        title=file,
        predictions=[page.predictions for page in pages],
        record=document_record(file, pages),
        pdf_pages=[PdfPage(page.image, page.predictions, page.pdf_page.size_pt if page.pdf_page else None) for page in pages]
        if kept else (),
    )


def _check_relative(relative: PurePosixPath) -> None:
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"output path must be relative and inside the output folder, got {relative}")


def output_paths(out_dir: Path, relative: PurePosixPath, formats: Sequence[ExportFormat]) -> list[Path]:
    """Where an input's outputs go: `OUT/<relative>` + each format's suffix (`a/b.jpg` -> `OUT/a/b.jpg.json`),
    a name too long for the file system cut before the suffix (exporters.formats.export_name)."""
    _check_relative(relative)
    folder = out_dir.joinpath(*relative.parent.parts)
    return [folder / export_name(relative.name, fmt, MAX_OUTPUT_NAME_BYTES) for fmt in formats]


def temp_path(path: Path, pid: int | None = None) -> Path:
    """The temp file `atomic_write` uses for `path` in process `pid` (hidden, same folder)."""
    return path.with_name(f".{path.name}.{os.getpid() if pid is None else pid}.tmp")


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that `path` is either absent/old or complete, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temp_path(path)
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def manifest_path(out_dir: Path, relative: PurePosixPath) -> Path:
    """The manifest of one input's outputs (`a/b.jpg` -> `OUT/a/.b.jpg.manifest`): hidden, and not `.json`,
    so that globbing the results does not pick it up."""
    _check_relative(relative)
    base = fit_base(relative.name, MAX_OUTPUT_NAME_BYTES - LONGEST_SUFFIX)
    return out_dir.joinpath(*relative.parent.parts, f".{base}.manifest")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_outputs(out_dir: Path, relative: PurePosixPath, rendered: Sequence[tuple[ExportFormat, bytes]]) -> None:
    """Write one input's outputs, each atomically, then its manifest (name, size and SHA-256 of each), also
    atomically and last: the manifest exists only once every output listed in it is whole. An old manifest is
    removed first, so a run killed midway never leaves one that vouches for outputs being replaced."""
    manifest = manifest_path(out_dir, relative)
    manifest.unlink(missing_ok=True)
    paths = output_paths(out_dir, relative, [fmt for fmt, _ in rendered])
    entries = {}
    for (fmt, data), path in zip(rendered, paths):
        atomic_write(path, data)
        entries[fmt.name] = {"name": path.name, "bytes": len(data), "sha256": _digest(data)}
    record = {"file": relative.as_posix(), "outputs": entries}
    atomic_write(manifest, json.dumps(record, ensure_ascii=True, indent=1).encode("ascii"))


# A manifest is a few hundred bytes; anything much bigger is not one of ours.
_MAX_MANIFEST_BYTES = 1 << 16


def is_complete(out_dir: Path, relative: PurePosixPath, formats: Sequence[ExportFormat]) -> bool:
    """True when the input's manifest lists every requested format and each output still has the size and
    SHA-256 it was written with (what --resume trusts): a missing, truncated, emptied or edited output, or
    outputs from a run that was killed before its manifest, mean the input is read again."""
    try:
        manifest = manifest_path(out_dir, relative)
        if manifest.stat().st_size > _MAX_MANIFEST_BYTES:
            return False
        record = json.loads(manifest.read_bytes())
        entries = record["outputs"]
        for fmt, path in zip(formats, output_paths(out_dir, relative, formats)):
            entry = entries[fmt.name]
            if entry["name"] != path.name or not path.is_file() or path.stat().st_size != entry["bytes"]:
                return False
            if _digest(path.read_bytes()) != entry["sha256"]:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True
