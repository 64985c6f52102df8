"""The one gate every file-like value of every request passes before Gradio or the app touches it.

A request's payload is the client's to write: `{"path": "/etc/shadow"}`, `{"path": "https://..."}`,
`{"url": "data:image/png;base64,..."}`, a list where one file is expected, 500 references to one upload.
Gradio checks paths only for values marked `"meta": {"_type": "gradio.FileData"}`, downloads http(s) paths,
and decodes data: URLs itself, all before a component's `preprocess` runs. So the app checks every input
first (`check_request_inputs`, called from `OcrDemo.preprocess_data`) and accepts a file only when:

- it is a dict with a string `path` that is a plain local path (no URL scheme, no data: URL anywhere),
- the path, with every symlink resolved, lies inside this instance's temp dir (where Gradio stores
  uploads and the example files it copied at start-up),
- it is a regular file there, not a stream, FIFO or directory,
- it is where the component expects one (a single dict for an image input, a list of at most
  `max_files` dicts for a multi-file input; no file anywhere else).

Every refusal raises `UploadRefused` with the same short message, whatever exists on the server's
disk, so the refusal tells a caller nothing about files outside the upload folder.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REFUSED_MESSAGE = "Only files uploaded to this app can be read. Please upload the file again."
# Keys that make a dict "file-like" for Gradio or for us: a value carrying any of them is checked.
_FILE_KEYS = frozenset({"path", "url", "meta", "orig_name", "is_stream"})
# "scheme:" as in http:, https:, data:, file:, ftp:; two letters at least, so "C:" stays a (refused) path.
_SCHEME = re.compile(r"^\s*[a-zA-Z][a-zA-Z0-9+.\-]+:")
_MAX_DEPTH = 8  # payloads nest a few levels at most; deeper nesting is refused, not walked


class UploadRefused(ValueError):
    """A request referred to a file the app will not read; the message is safe to show as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(REFUSED_MESSAGE)
        self.reason = reason  # for the server log and tests only, never for the client


@dataclass(frozen=True)
class FileSlot:
    """What one input accepts: no file, one file, or a list of up to `max_files` files."""

    kind: str  # "none", "single" or "multiple"
    max_files: int = 1


NO_FILES = FileSlot("none")
ONE_FILE = FileSlot("single")


def is_file_like(value: Any) -> bool:
    return isinstance(value, Mapping) and any(key in value for key in _FILE_KEYS)


def contains_file_like(value: Any, depth: int = 0) -> bool:
    """True when `value` holds a file-like dict anywhere (or nests deeper than any real payload)."""
    if depth > _MAX_DEPTH:
        return True
    if is_file_like(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_file_like(item, depth + 1) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_file_like(item, depth + 1) for item in value)
    return False


def accepted_path(payload: Any, upload_dir: str | os.PathLike[str]) -> str:
    """The resolved local path of one uploaded file, or UploadRefused. Reads no file content."""
    if not isinstance(payload, Mapping):
        raise UploadRefused(f"not a file object: {type(payload).__name__}")
    url = payload.get("url")
    if url is not None and (not isinstance(url, str) or url.strip().lower().startswith("data:")):
        raise UploadRefused("data: URL or non-string url")
    if payload.get("is_stream"):
        raise UploadRefused("stream payload")
    path = payload.get("path")
    if not isinstance(path, str) or not path or "\x00" in path:
        raise UploadRefused("missing or malformed path")
    if _SCHEME.match(path) or path.startswith(("//", "\\\\")):
        raise UploadRefused("URL given as a path")
    if not os.path.isabs(path):
        raise UploadRefused("relative path")
    root = os.path.realpath(upload_dir)
    resolved = os.path.realpath(path)
    if os.path.commonpath([root, resolved]) != root or resolved == root:
        raise UploadRefused("outside the upload folder")
    try:
        info = os.stat(resolved)
    except OSError as error:
        raise UploadRefused(f"not readable: {error.__class__.__name__}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UploadRefused("not a regular file")
    return resolved


def accepted_paths(payload: Any, upload_dir: str | os.PathLike[str], max_files: int) -> list[str]:
    """Resolved paths of a multi-file input (a list of file objects), or UploadRefused."""
    if not isinstance(payload, (list, tuple)):
        raise UploadRefused(f"expected a list of files, got {type(payload).__name__}")
    if len(payload) > max_files:
        raise UploadRefused(f"{len(payload)} files, at most {max_files}")
    return [accepted_path(item, upload_dir) for item in payload]


def check_input(value: Any, slot: FileSlot, upload_dir: str | os.PathLike[str]) -> None:
    """Refuse `value` unless every file in it is one this slot may take (see the module docstring)."""
    if value is None:
        return
    if slot.kind == "single":
        if isinstance(value, Mapping) and not is_file_like(value) and not contains_file_like(value):
            return  # e.g. an image editor's empty value: no file in it
        accepted_path(value, upload_dir)
    elif slot.kind == "multiple":
        accepted_paths(value, upload_dir, slot.max_files)
    elif contains_file_like(value):
        raise UploadRefused("file object in an input that takes no file")


def check_request_inputs(
    values: Sequence[Any], slots: Sequence[FileSlot], upload_dir: str | os.PathLike[str]
) -> None:
    """Check every input value of one request against its slot; UploadRefused on the first bad one."""
    if len(values) != len(slots):
        raise UploadRefused(f"{len(values)} inputs for {len(slots)} slots")
    for value, slot in zip(values, slots):
        check_input(value, slot, upload_dir)
