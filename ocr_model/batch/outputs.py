"""Bulk outputs: the formats one input is written in, where each goes (`a/b.jpg` -> `OUT/a/b.jpg.json`),
atomic writes (a temp file in the same folder, fsynced, renamed over the target: a run that is killed never
leaves a half-written file where a finished one is expected), and the per-input manifest written last
(`write_outputs`) that `is_complete`, and so `--resume`, trusts.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Sequence

from .. import exporters
from ..exporters.records import Page, document_record
from ..types import Predictions


@dataclass(frozen=True)
class OutputFormat:
    """How one input's result is written: file suffix and a function of (relative file name, pages) -> bytes."""

    name: str
    suffix: str
    render: Callable[[str, Sequence[Page]], bytes]
    needs_image: bool = False  # the pages' pixels must be kept until it is written


def _predictions(pages: Sequence[Page]) -> list[Predictions]:
    return [page.predictions for page in pages]


def _render_searchable_pdf(file: str, pages: Sequence[Page]) -> bytes:
    return exporters.to_searchable_pdf(
        [
            exporters.PdfPage(page.image, page.predictions, page.pdf_page.size_pt if page.pdf_page else None)
            for page in pages
        ]
    )


def _render_json(file: str, pages: Sequence[Page]) -> bytes:
    return json.dumps(document_record(file, pages), ensure_ascii=False).encode("utf-8")


def _render_text(file: str, pages: Sequence[Page]) -> bytes:
    return exporters.to_text(_predictions(pages)).encode("utf-8")


def _render_layout_text(file: str, pages: Sequence[Page]) -> bytes:
    return exporters.to_layout_text(_predictions(pages)).encode("utf-8")


def _render_hocr(file: str, pages: Sequence[Page]) -> bytes:
    return exporters.to_hocr(_predictions(pages), titles=[file]).encode("utf-8")


# Module-level functions, not lambdas: the formats travel to worker processes (pickled).
FORMATS: dict[str, OutputFormat] = {
    "json": OutputFormat("json", ".json", _render_json),
    "txt": OutputFormat("txt", ".txt", _render_text),  # lines in reading order; pages separated by a form feed
    "layout": OutputFormat("layout", ".layout.txt", _render_layout_text),  # rows spaced as on the page
    "hocr": OutputFormat("hocr", ".hocr", _render_hocr),
    "pdf": OutputFormat("pdf", ".pdf", _render_searchable_pdf, needs_image=True),  # image + invisible text
}


def parse_formats(text: str) -> list[OutputFormat]:
    """`"json,txt"` -> the formats, in that order, without duplicates; ValueError names unknown ones."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise ValueError(f"unknown output format(s) {', '.join(unknown) or repr(text)}; available: {', '.join(FORMATS)}")
    return [FORMATS[name] for name in dict.fromkeys(names)]


def output_paths(out_dir: Path, relative: PurePosixPath, formats: Sequence[OutputFormat]) -> list[Path]:
    """Where an input's outputs go: `OUT/<relative>` + each format's suffix (`a/b.jpg` -> `OUT/a/b.jpg.json`)."""
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"output path must be relative and inside the output folder, got {relative}")
    return [out_dir.joinpath(*relative.parent.parts, relative.name + fmt.suffix) for fmt in formats]


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
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"output path must be relative and inside the output folder, got {relative}")
    return out_dir.joinpath(*relative.parent.parts, f".{relative.name}.manifest")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_outputs(out_dir: Path, relative: PurePosixPath, rendered: Sequence[tuple[OutputFormat, bytes]]) -> None:
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


def is_complete(out_dir: Path, relative: PurePosixPath, formats: Sequence[OutputFormat]) -> bool:
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
