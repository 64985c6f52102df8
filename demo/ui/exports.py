"""The export downloads under the result: text, layout text, hOCR, searchable PDF and a zip of them all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from demo import handlers
from demo.documents import safe_stem
from demo.files import write_cache_file
from demo.history import OcrResult
from demo.ui.page import Services, download
from demo.ui.result import file_stem
from ocr_model.exporters.formats import FORMATS

# (key, button label); "zip" holds every export of the run (of every file, for a batch).
EXPORT_BUTTONS: list[tuple[str, str]] = [
    ("text", "Text"),
    ("layout", "Layout text"),
    ("hocr", "hOCR"),
    ("pdf", "Searchable PDF"),
    ("zip", "All exports (zip)"),
]
EXPORT_SUFFIXES = {key: FORMATS["txt" if key == "text" else key].suffix for key, _ in EXPORT_BUTTONS[:-1]}  # one registry


@dataclass(frozen=True)
class ExportsPanel:
    buttons: dict[str, gr.DownloadButton]  # by key of EXPORT_BUTTONS, in its order

    def outputs(self) -> list[gr.DownloadButton]:
        return list(self.buttons.values())

    def values(self, files: dict[str, str | None]) -> dict[Any, Any]:
        """Every button's update: the file under its key, else nothing to download."""
        return {button: download(files.get(key)) for key, button in self.buttons.items()}


def build_exports_panel() -> ExportsPanel:
    with gr.Row(elem_id="exports"):
        buttons = {
            key: gr.DownloadButton(label, value=None, interactive=False, elem_id=f"{key}-download")
            for key, label in EXPORT_BUTTONS
        }
    return ExportsPanel(buttons)


def export_files(services: Services, results: Sequence[OcrResult], name: str) -> dict[str, str | None]:
    """The downloads for one upload (every page of a PDF), written to the cache: path by button key."""
    files = handlers.document_exports(results, name)
    paths: dict[str, str | None] = {}
    for key, suffix in EXPORT_SUFFIXES.items():
        file_name = safe_stem(name) + suffix
        paths[key] = write_cache_file(services.cache_dir, files[file_name], file_name)
    archive = handlers.zip_exports([(name, files)])
    paths["zip"] = write_cache_file(services.cache_dir, archive, f"{file_stem(name)}_exports.zip")
    return paths


def batch_export_files(services: Services, archive: bytes | None) -> dict[str, str | None]:
    """A batch: only the zip (one folder per file); the single-file buttons are cleared."""
    if archive is None:
        return {}
    return {"zip": write_cache_file(services.cache_dir, archive, "batch_exports.zip")}
