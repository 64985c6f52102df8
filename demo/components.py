"""Gradio components adjusted for untrusted uploads: they hand over a checked local path, nothing else."""

from __future__ import annotations

import copy
import re
from typing import Any

import gradio as gr

from demo.gradio_stubs import skip_stubs_for_demo
from demo.uploads import ONE_FILE, FileSlot, accepted_path, accepted_paths

skip_stubs_for_demo()  # before the component classes below: no .pyi beside this file

# What the API page shows as the file to send: a local file, which the client uploads. (Gradio's
# default is a URL on the web, which this server refuses: it never fetches URLs for its callers.)
EXAMPLE_FILE = "page.jpg"

# The API page's words for a file input (Gradio's say "a local filepath or publicly available URL").
FILE_INPUT_DESCRIPTION = (
    "a file from your machine, uploaded by the client (Python: handle_file('page.jpg'); JavaScript: a Blob "
    "or File; curl: POST it to /gradio_api/upload first). URLs and base64 data are refused."
)


def _local_file_payload(name: str) -> dict[str, Any]:
    # "url" set to the local name: Gradio's snippets then write handle_file('page.jpg') in Python and an
    # upload step in curl; without it the JavaScript snippet began with `await fetch("")`.
    return {"path": name, "url": name, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def _with_file_description(schema: dict[str, Any], files: bool = False) -> dict[str, Any]:
    """A copy of a component's API schema whose descriptions say what this server accepts."""
    schema = copy.deepcopy(schema)
    schema["additional_description"] = (
        FILE_INPUT_DESCRIPTION.replace("a file from your machine", "a list of files from your machine")
        if files
        else FILE_INPUT_DESCRIPTION
    )
    url = schema.get("properties", {}).get("url")
    if isinstance(url, dict):
        url["description"] = "Not accepted: this server never fetches URLs or decodes base64 data"
    return schema


# `const response_0 = await fetch("page.jpg"); const exampleImage = await response_0.blob();`: fetch needs a
# URL, so for a local file name the JavaScript snippet reads the file instead (Node 20+: fs.openAsBlob).
_JS_FETCH = re.compile(r'const response_(\d+) = await fetch\("([^"]*)"\);\nconst (example\w+) = await response_\1\.blob\(\);')


def local_file_js_snippet(snippet: str) -> str:
    """Gradio's JavaScript snippet with each example file read from disk instead of fetched."""
    if not _JS_FETCH.search(snippet):
        return snippet
    snippet = _JS_FETCH.sub(
        lambda match: f'const {match.group(3)} = await openAsBlob("{match.group(2) or EXAMPLE_FILE}");'
        "  // in a browser: a File from an <input type=\"file\">",
        snippet,
    )
    return 'import { openAsBlob } from "node:fs";\n' + snippet


def use_local_file_snippets() -> None:
    """Make the "Use via API" page's JavaScript snippets read a local file (idempotent).

    Gradio builds the snippets in `gradio.routes` with `generate_code_snippets`; the JavaScript one fetches
    the example's URL, which for this server (local files only) cannot work. Wrapped once per process.
    """
    import gradio.routes as routes

    original = routes.generate_code_snippets
    if getattr(original, "_local_files", False):
        return

    def generate(*args: Any, **kwargs: Any) -> dict[str, str]:
        snippets = original(*args, **kwargs)
        if "javascript" in snippets:
            snippets["javascript"] = local_file_js_snippet(snippets["javascript"])
        return snippets

    generate._local_files = True  # type: ignore[attr-defined]
    routes.generate_code_snippets = generate


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

    def api_info(self) -> dict[str, Any]:
        return _with_file_description(super().api_info())

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

    def api_info(self) -> dict[str, Any]:
        return _with_file_description(super().api_info(), files=True)

    def example_value(self) -> Any:
        return [EXAMPLE_FILE, "page2.jpg"]

    def preprocess(self, payload: Any) -> list[str] | None:
        if payload is None:
            return None
        data = payload.model_dump() if hasattr(payload, "model_dump") else payload
        if isinstance(data, dict) and "root" in data:  # ListFiles root model
            data = data["root"]
        return accepted_paths(data, self.GRADIO_CACHE, self.max_files)
