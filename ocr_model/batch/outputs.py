"""Bulk outputs: the formats one input is written in, where each goes (`a/b.jpg` -> `OUT/a/b.jpg.json`),
atomic writes (a temp file in the same folder, fsynced, renamed over the target: a run that is killed never
leaves a half-written file where a finished one is expected) and `is_complete`, which `--resume` trusts.
"""

from __future__ import annotations

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


def is_complete(paths: Sequence[Path]) -> bool:
    """True when every output exists and each JSON output parses as a result (what --resume trusts)."""
    for path in paths:
        if not path.is_file():
            return False
        if path.suffix == ".json":
            try:
                data = json.loads(path.read_bytes())
            except (OSError, ValueError):
                return False
            if not isinstance(data, dict) or "file" not in data or not ("lines" in data or "pages" in data):
                return False
    return True
