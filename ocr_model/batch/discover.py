"""Bulk inputs: files, folders (recursive, by extension) and glob patterns become `InputFile`s, each with the
relative path its outputs mirror under the output folder.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Collection, Iterator, Sequence

from ..inputs.image_decode import IMAGE_EXTENSIONS

# What a folder or glob picks up: images and PDFs (every PDF page is read, up to OCR_MAX_PDF_PAGES).
INPUT_EXTENSIONS: tuple[str, ...] = (*IMAGE_EXTENSIONS, ".pdf")

# ---------------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class InputFile:
    """One file to read, and the relative path its outputs (and its "file" field) use."""

    path: Path
    relative: PurePosixPath


class InputError(ValueError):
    """The inputs cannot be run as given (nothing found, two inputs that would write the same output)."""


def _has_extension(path: str, extensions: Collection[str]) -> bool:
    return os.path.splitext(path)[1].lower() in extensions


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _walk_folder(folder: Path, extensions: Collection[str], exclude: Path | None) -> Iterator[Path]:
    """Files under `folder` with a wanted extension, sorted, skipping hidden files/folders and `exclude`."""
    for root, folders, files in os.walk(folder):  # does not follow symlinked folders: no loops
        root_path = Path(root)
        folders[:] = sorted(
            name for name in folders if not _is_hidden(name) and (exclude is None or (root_path / name).resolve() != exclude)
        )
        for name in sorted(files):
            if not _is_hidden(name) and _has_extension(name, extensions):
                yield root_path / name


def _glob_base(pattern: str) -> Path:
    """The leading folders of a glob pattern that hold no wildcard (what matches are made relative to)."""
    parts = Path(pattern).parts
    base: list[str] = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        base.append(part)
    return Path(*base) if base else Path(".")


def discover_inputs(
    specs: Sequence[str | os.PathLike[str]],
    extensions: Collection[str] = INPUT_EXTENSIONS,
    exclude: str | os.PathLike[str] | None = None,
) -> list[InputFile]:
    """Expand files, folders and glob patterns into input files, in order, without duplicates.

    - a file is taken whatever its extension; its outputs go at the top of the output folder (its name);
    - a folder is scanned recursively for `extensions` (case-insensitive; hidden entries skipped); outputs
      mirror the tree below that folder;
    - anything else with `*`, `?` or `[` is a glob pattern (`**` recurses); matching files with a wanted
      extension are taken, relative to the pattern's leading folders.
    `exclude` (the output folder) is never scanned. Raises InputError naming every spec that matched nothing.
    """
    wanted = {extension.lower() for extension in extensions}
    excluded = Path(exclude).resolve() if exclude is not None else None
    found: list[InputFile] = []
    seen: set[Path] = set()
    missing: list[str] = []

    def add(path: Path, relative: Path) -> bool:
        resolved = path.resolve()
        if excluded is not None and resolved.is_relative_to(excluded):
            return False
        if resolved not in seen:  # the same file named twice (a folder and a glob over it) runs once
            seen.add(resolved)
            found.append(InputFile(path=path, relative=PurePosixPath(relative.as_posix())))
        return True

    for spec in specs:
        path = Path(spec)
        matched = 0
        if path.is_file():
            matched += add(path, Path(path.name))
        elif path.is_dir():
            for file in _walk_folder(path, wanted, excluded):
                matched += add(file, file.relative_to(path))
        elif glob.has_magic(str(spec)):
            base = _glob_base(str(spec))
            for match in sorted(glob.glob(str(spec), recursive=True)):
                file = Path(match)
                if file.is_file() and _has_extension(match, wanted):
                    matched += add(file, file.relative_to(base) if file.is_relative_to(base) else Path(file.name))
        else:
            missing.append(f"{spec}: no such file or folder")
            continue
        if not matched:
            missing.append(f"{spec}: no files with extension {', '.join(sorted(wanted))}")
    if missing:
        raise InputError("; ".join(missing))
    return found


def check_unique_outputs(inputs: Sequence[InputFile]) -> None:
    """Raise InputError if two inputs would write the same output (e.g. a/x.jpg and b/x.jpg given as files)."""
    owners: dict[PurePosixPath, Path] = {}
    clashes = []
    for item in inputs:
        if item.relative in owners:
            clashes.append(f"{owners[item.relative]} and {item.path} both map to {item.relative}")
        else:
            owners[item.relative] = item.path
    if clashes:
        raise InputError("two inputs would write the same output: " + "; ".join(clashes) + " (pass their common folder instead)")
