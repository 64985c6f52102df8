"""Write the files the page downloads (annotated JPEG, thumbnails, JSON) into Gradio's cache.

Files are content-addressed (`<cache>/<sha256>/<name>`), so re-showing a result reuses its
file. Because they live inside this instance's temp folder (Gradio's cache directory), Gradio
serves them without copying, and the app's sweeper (demo/temp_files.py) ages them out with
everything else in that folder.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def write_cache_file(cache_dir: str | os.PathLike[str], data: bytes, name: str) -> str:
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).strip("._") or "file"
    folder = Path(cache_dir) / hashlib.sha256(data).hexdigest()[:32]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / safe_name
    if path.exists():
        os.utime(path)  # delete_cache ages files by ctime/mtime: keep a re-shown file alive
        return str(path)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temporary, path)
    return str(path)
