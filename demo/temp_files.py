"""This instance's temp directory: private, swept while serving, and gone after shutdown.

Gradio writes every upload, every example copy and every file the app serves into one directory
(GRADIO_TEMP_DIR). Left to Gradio alone, files it does not track (bodies of refused uploads, files the
app writes itself) stay until someone deletes them, and a SIGTERM (docker, systemd, Spaces) skips its
shutdown cleanup altogether. So the app owns the directory:

- `create_instance_dir(parent)`: a new private (0700) folder per process under the configured parent,
  so instances on one machine never share or delete each other's files;
- `sweep(folder, older_than_s, keep)`: deletes every file older than the limit (except `keep`, e.g.
  the example images) and every folder left empty; run on Gradio's `delete_cache` schedule by
  `sweeper_lifespan`, in a worker thread of the event loop (no thread of its own);
- `remove_orphan_uploads(folder)`: deletes multipart temp files of uploads that failed (Gradio's
  upload route leaves them when it refuses a file name, or when the client disconnects);
- `remove_instance_dir(folder)`: at shutdown (atexit; app.py turns SIGTERM/SIGHUP into the same
  orderly shutdown as Ctrl-C).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from typing import Any

import anyio

LOGGER = logging.getLogger(__name__)

INSTANCE_PREFIX = "ocr-demo-"
# Gradio's multipart parser names its temp files like tempfile's defaults: "tmp" + 8 random characters,
# directly in the upload folder; a successful upload renames its file into a <sha256>/ subfolder.
_MULTIPART_TEMP_PREFIX = "tmp"
# An upload whose temp file has not been written to for this long is not in progress any more.
ORPHAN_GRACE_S = 60.0

_created: dict[str, str] = {}  # parent -> instance dir created by this process


def create_instance_dir(parent: str | os.PathLike[str]) -> str:
    """This process's private temp folder under `parent` (created once per process and parent)."""
    parent = os.path.abspath(os.fspath(parent))
    existing = _created.get(parent)
    if existing is not None and os.path.isdir(existing):
        return existing
    os.makedirs(parent, exist_ok=True)
    folder = tempfile.mkdtemp(prefix=INSTANCE_PREFIX, dir=parent)  # mode 0700
    _created[parent] = folder
    atexit.register(remove_instance_dir, folder)
    return folder


def remove_instance_dir(folder: str | os.PathLike[str]) -> None:
    """Delete the folder and everything in it (shutdown); a missing folder is fine."""
    shutil.rmtree(folder, ignore_errors=True)


def open_files() -> set[str] | None:
    """Paths this process holds open (Linux /proc); None where that cannot be known."""
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return None
    paths = set()
    for descriptor in descriptors:
        try:
            paths.add(os.readlink(f"/proc/self/fd/{descriptor}"))
        except OSError:
            continue
    return paths


def remove_orphan_uploads(folder: str | os.PathLike[str], grace_s: float = ORPHAN_GRACE_S) -> int:
    """Delete multipart temp files of failed uploads; returns how many were deleted.

    A file counts as an orphan when it is a top-level `tmp*` file that no descriptor of this process
    holds open (an upload in progress keeps its file open) and that was not written to for `grace_s`.
    """
    now = time.time()
    held = open_files()
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(_MULTIPART_TEMP_PREFIX) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if now - info.st_mtime < grace_s:
            continue
        if held is None and grace_s < ORPHAN_GRACE_S:
            continue  # cannot see open files here: only age can tell, so wait the full grace period
        if held is not None and os.path.realpath(entry.path) in held:
            continue
        try:
            os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def sweep(folder: str | os.PathLike[str], older_than_s: float, keep: Collection[str] = ()) -> int:
    """Delete files under `folder` not modified for `older_than_s` seconds (except `keep`) and the
    folders this leaves empty; returns how many files were deleted."""
    now = time.time()
    kept = {os.path.realpath(path) for path in keep}
    removed = 0
    emptied: set[str] = set()
    for root, folders, files in os.walk(folder, topdown=False):
        for name in files:
            path = os.path.join(root, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if now - info.st_mtime < older_than_s or os.path.realpath(path) in kept:
                continue
            try:
                os.unlink(path)
                removed += 1
                emptied.add(root)
            except OSError:
                continue
        for name in folders:
            path = os.path.join(root, name)
            try:
                # A folder this sweep emptied, or one left empty for a while (an upload creates its
                # <sha256>/ folder just before moving the file in: a fresh empty one is left alone).
                if path in emptied or now - os.lstat(path).st_mtime >= ORPHAN_GRACE_S:
                    os.rmdir(path)  # only succeeds when empty
                    emptied.add(root)
            except OSError:
                continue
    removed += remove_orphan_uploads(folder)
    return removed


def files_to_keep(blocks: Any) -> set[str]:
    """Files Gradio must keep for the app's lifetime (example images copied into the cache)."""
    keep: set[str] = set()
    for block in getattr(blocks, "blocks", {}).values():
        keep.update(getattr(block, "keep_in_cache", ()) or ())
    return keep


def sweeper_lifespan(
    folder: str, every_s: float, older_than_s: float, blocks_of: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    """A FastAPI/Starlette lifespan that sweeps `folder` every `every_s` seconds while the app serves."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async def run() -> None:
            while True:
                await asyncio.sleep(every_s)
                keep = files_to_keep(blocks_of(app))
                try:
                    removed = await anyio.to_thread.run_sync(sweep, folder, older_than_s, keep)
                except OSError as error:  # never let one bad file stop the schedule
                    LOGGER.warning("temp sweep failed: %s", error)
                    continue
                if removed:
                    LOGGER.info("temp sweep removed %d files from %s", removed, folder)

        task = asyncio.create_task(run())
        try:
            yield
        finally:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    return lifespan


def folder_bytes(folder: str | os.PathLike[str]) -> int:
    """Bytes of all files under `folder` (not following links); 0 for a missing folder."""
    total = 0
    stack = [os.fspath(folder)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
    return total
