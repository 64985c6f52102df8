"""Gradio components adjusted for untrusted uploads: they hand over a checked local path, nothing else."""

from __future__ import annotations

from typing import Any

import gradio as gr

from demo.uploads import ONE_FILE, FileSlot, accepted_path, accepted_paths

# What the API page shows as the file to send: a local file, which gradio_client uploads. (Gradio's
# default is a URL on the web, which this server refuses: it never fetches URLs for its callers.)
EXAMPLE_FILE = "page.jpg"


def _local_file_payload(name: str) -> dict[str, Any]:
    return {"path": name, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


class UploadedImage(gr.Image):
    """`gr.Image` (same front end) whose server side hands over the uploaded file's path, untouched.

    Stock `gr.Image` opens every upload with Pillow in its preprocess step (and decodes base64 data:
    URLs itself), before the event handler runs. This component never decodes and never fetches:
    it passes the path of a file that `demo.uploads` accepted (inside this instance's upload folder)
    to the app's own decoder (ocr_model/inputs/image_decode.py), which refuses bad files with a clear message.
    """

    is_template = True  # Gradio: render with the parent's front end ("image")
    file_slot: FileSlot = ONE_FILE

    def get_block_name(self) -> str:
        return "image"  # Gradio's front end, for this class and any subclass of it

    def example_payload(self) -> Any:
        return _local_file_payload(EXAMPLE_FILE)

    def example_value(self) -> Any:
        return EXAMPLE_FILE

    def preprocess(self, payload: Any) -> str | None:
        if payload is None:
            return None
        data = payload.model_dump() if hasattr(payload, "model_dump") else payload
        return accepted_path(data, self.GRADIO_CACHE)  # checked again: this is the last step before use


class UploadedFiles(gr.File):
    """`gr.File(file_count="multiple")` whose server side hands over checked paths of at most `max_files` uploads.

    Build it with `UploadedFiles.create(max_files=N, ...)`: Gradio reads a component's properties from
    its class's `__init__` signature, so this class keeps `gr.File`'s own constructor.
    """

    is_template = True  # Gradio: render with the parent's front end ("file")
    max_files: int = 1

    @classmethod
    def create(cls, max_files: int, **kwargs: Any) -> "UploadedFiles":
        if max_files < 1:
            raise ValueError(f"max_files must be >= 1, got {max_files}")
        component = cls(file_count="multiple", type="filepath", **kwargs)
        component.max_files = max_files
        return component

    @property
    def file_slot(self) -> FileSlot:
        return FileSlot("multiple", self.max_files)

    def get_block_name(self) -> str:
        return "file"  # Gradio's front end, for this class and any subclass of it

    def example_payload(self) -> Any:
        return [_local_file_payload(EXAMPLE_FILE), _local_file_payload("page2.jpg")]

    def example_value(self) -> Any:
        return [EXAMPLE_FILE, "page2.jpg"]

    def preprocess(self, payload: Any) -> list[str] | None:
        if payload is None:
            return None
        data = payload.model_dump() if hasattr(payload, "model_dump") else payload
        if isinstance(data, dict) and "root" in data:  # ListFiles root model
            data = data["root"]
        return accepted_paths(data, self.GRADIO_CACHE, self.max_files)
