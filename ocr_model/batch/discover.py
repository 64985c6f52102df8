"""Bulk inputs: files, folders (recursive, by extension) and glob patterns become `InputFile`s, each with the
relative path its outputs mirror under the output folder.

Every path may be hostile: it is lstat-ed before anything opens it, so FIFOs, devices, sockets, broken links
and symlink loops are reported (`Skipped`) instead of blocking or raising; no folder walk or `**` enters a
symlinked folder; names are printed through `printable`.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import stat
import unicodedata
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


class InputSpecError(ValueError):
    """The command line's input list cannot be run as given (nothing found, two inputs that would write the
    same output). Not the app's `demo.handlers.InputError`, which is a message for the user of one request."""


@dataclass(frozen=True)
class Skipped:
    """A path that was found but is not read: why, in words (a FIFO, a symlink loop, a broken link...)."""

    path: str
    why: str


@dataclass(frozen=True)
class Discovery:
    inputs: list[InputFile]
    skipped: list[Skipped]


# Characters that would let a file name rewrite the terminal: controls (a newline that fakes a summary line,
# escape sequences), line/paragraph separators, bidirectional overrides, and the lone surrogates that stand
# for undecodable bytes (printing them raises UnicodeEncodeError).
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """`text` with every control character escaped (`\\n`, `\\x1b`, `\\u202e`; a backslash becomes `\\\\` so
    that no escape is ambiguous): safe to print on one line of a terminal or a log."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs"):
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def special_file_reason(path: str | os.PathLike[str], follow_symlinks: bool = True) -> str | None:
    """None when `path` is a regular file (or, with `follow_symlinks`, a symlink to one); otherwise why it is
    not read. Only lstat/stat: nothing is opened, so a FIFO or a device cannot block or be triggered."""
    try:
        info = os.lstat(path)
    except OSError as error:
        return f"cannot read it ({error.strerror})"
    if stat.S_ISLNK(info.st_mode):
        if not follow_symlinks:
            return "a symbolic link (not followed: --no-follow-symlinks)"
        try:
            info = os.stat(path)
        except OSError as error:
            if error.errno == errno.ELOOP:
                return "a symbolic link loop"
            return f"a broken symbolic link ({error.strerror})"
    if stat.S_ISREG(info.st_mode):
        return None
    return f"not a regular file: {_KINDS.get(stat.S_IFMT(info.st_mode), 'a special file')}"


def read_regular_file(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file. Opened non-blocking and checked with fstat before reading, so a file
    swapped for a FIFO or a device after discovery is refused (OSError) instead of blocking the run."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)


def _has_extension(path: str, extensions: Collection[str]) -> bool:
    return os.path.splitext(path)[1].lower() in extensions


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _walk_folder(folder: Path, extensions: Collection[str], exclude: Path | None) -> Iterator[Path]:
    """Files under `folder` with a wanted extension, sorted, skipping hidden files/folders and `exclude`.
    Symlinked folders are not entered (os.walk's default), so a link to `..` cannot loop."""
    for root, folders, files in os.walk(folder):
        root_path = Path(root)
        folders[:] = sorted(
            name for name in folders if not _is_hidden(name) and (exclude is None or _real(root_path / name) != exclude)
        )
        for name in sorted(files):
            if not _is_hidden(name) and _has_extension(name, extensions):
                yield root_path / name


def _real(path: str | os.PathLike[str]) -> Path:
    """The canonical path (os.path.realpath: unlike Path.resolve on Python 3.11 it never raises on a loop)."""
    return Path(os.path.realpath(path))


def _glob_base(pattern: str) -> Path:
    """The leading folders of a glob pattern that hold no wildcard (what matches are made relative to)."""
    parts = Path(pattern).parts
    base: list[str] = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        base.append(part)
    return Path(*base) if base else Path(".")


def _listdir(folder: str) -> list[str]:
    try:
        return sorted(os.listdir(folder or "."))
    except OSError:  # not a folder, no permission, a loop: nothing matches there
        return []


def _is_real_dir(path: str) -> bool:
    """A folder that is not a symlink (what `**` descends into)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _folders_below(folder: str) -> list[str]:
    """`folder` and every non-hidden folder under it, without entering symlinked folders (the `**` rule:
    `here -> .` or `up -> ..` cannot make it loop)."""
    found = []
    for root, folders, _ in os.walk(folder or ".", followlinks=False):
        folders[:] = sorted(name for name in folders if not _is_hidden(name) and _is_real_dir(os.path.join(root, name)))
        found.append(root if folder else ("" if root == "." else os.path.relpath(root)))
    return found


def expand_glob(pattern: str) -> list[str]:
    """The paths matching `pattern`, like `glob.glob(pattern, recursive=True)` except that `**` never
    enters a symlinked folder. Python's glob follows them, so a link to `.` or `..` made it run for minutes.
    Components are expanded one at a time, so every other component matches one level: the work is bounded by
    the tree's size times the pattern's length."""
    drive_root, rest = os.path.splitdrive(pattern)[0], pattern
    parts = rest.split(os.sep)
    if parts[0] == "":  # absolute: start at the root
        current, parts = [os.sep], parts[1:]
    else:
        current = [drive_root]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "":
            continue
        if part == "**":
            current = [below for folder in current for below in _folders_below(folder)]
            if last:  # `dir/**`: every folder and every (non-hidden) entry in them, as glob gives
                entries = [
                    os.path.join(folder, name) for folder in current for name in _listdir(folder) if not _is_hidden(name)
                ]
                return sorted(dict.fromkeys(current + entries))
            continue
        if not glob.has_magic(part):
            current = [os.path.join(folder, part) for folder in current]
            current = [path for path in current if os.path.lexists(path)]
            continue
        hidden_ok = _is_hidden(part)
        current = [
            os.path.join(folder, name)
            for folder in current
            for name in _listdir(folder)
            if (hidden_ok or not _is_hidden(name)) and fnmatch.fnmatchcase(name, part)
        ]
    return sorted(dict.fromkeys(current))


def _relative_to_base(match: str, base: Path) -> Path:
    """Where a glob match's outputs go: its path below the pattern's base, `..` resolved lexically (so
    `in/*/../x.png` is `x.png`); a match that is not below the base (a `..` past it) goes at the top."""
    normal, base_normal = Path(os.path.normpath(match)), Path(os.path.normpath(base))
    if base_normal != Path(".") and normal.is_relative_to(base_normal) and normal != base_normal:
        return normal.relative_to(base_normal)
    if base_normal == Path(".") and ".." not in normal.parts and not normal.is_absolute():
        return normal
    return Path(normal.name)


def discover(
    specs: Sequence[str | os.PathLike[str]],
    extensions: Collection[str] = INPUT_EXTENSIONS,
    exclude: str | os.PathLike[str] | None = None,
    follow_symlinks: bool = True,
) -> Discovery:
    """Expand files, folders and glob patterns into input files, in order, without duplicates.

    - a file is taken whatever its extension; its outputs go at the top of the output folder (its name);
    - a folder is scanned recursively for `extensions` (case-insensitive; hidden entries skipped); outputs
      mirror the tree below that folder;
    - anything else with `*`, `?` or `[` is a glob pattern (`**` recurses); matching files with a wanted
      extension are taken, relative to the pattern's leading folders.
    Symlinked folders are never entered. A symlink to a file is followed (wherever it points) unless
    `follow_symlinks` is False; FIFOs, devices, sockets, broken links and symlink loops are never opened:
    they are returned in `skipped`, with the reason. `exclude` (the output folder) is never scanned.
    Raises InputSpecError naming every spec that matched nothing.
    """
    wanted = {extension.lower() for extension in extensions}
    excluded = _real(exclude) if exclude is not None else None
    found: list[InputFile] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    missing: list[str] = []

    def add(path: Path, relative: Path, follow: bool = follow_symlinks) -> bool:
        why = special_file_reason(path, follow)
        resolved = _real(path)  # for a loop: the path itself, made absolute
        if why is not None:
            if resolved not in seen:
                seen.add(resolved)
                skipped.append(Skipped(str(path), why))
            return True
        if excluded is not None and resolved.is_relative_to(excluded):
            return False
        if resolved not in seen:  # the same file named twice (a folder and a glob over it) runs once
            seen.add(resolved)
            found.append(InputFile(path=path, relative=PurePosixPath(relative.as_posix())))
        return True

    for spec in specs:
        path = Path(spec)
        matched = 0
        if path.is_dir():
            for file in _walk_folder(path, wanted, excluded):
                matched += add(file, file.relative_to(path))
        elif os.path.lexists(path):  # a file named explicitly (followed if a link) or a special file
            matched += add(path, Path(path.name), follow=True)
        elif glob.has_magic(str(spec)):
            base = _glob_base(str(spec))
            for match in expand_glob(str(spec)):
                if _has_extension(match, wanted) and not _is_real_dir(match):
                    matched += add(Path(match), _relative_to_base(match, base))
        else:
            missing.append(f"{printable(str(spec))}: no such file or folder")
            continue
        if not matched:
            missing.append(f"{printable(str(spec))}: no files with extension {', '.join(sorted(wanted))}")
    if missing:
        raise InputSpecError("; ".join(missing))
    return Discovery(found, skipped)


def discover_inputs(
    specs: Sequence[str | os.PathLike[str]],
    extensions: Collection[str] = INPUT_EXTENSIONS,
    exclude: str | os.PathLike[str] | None = None,
    follow_symlinks: bool = True,
) -> list[InputFile]:
    """`discover(...).inputs`: the files to read (what was skipped, and why, is in `discover`)."""
    return discover(specs, extensions, exclude, follow_symlinks).inputs


def check_unique_outputs(inputs: Sequence[InputFile]) -> None:
    """Raise InputSpecError if two inputs would write the same output (e.g. a/x.jpg and b/x.jpg given as files)."""
    owners: dict[PurePosixPath, Path] = {}
    clashes = []
    for item in inputs:
        if item.relative in owners:
            clashes.append(f"{owners[item.relative]} and {item.path} both map to {item.relative}")
        else:
            owners[item.relative] = item.path
    if clashes:
        raise InputSpecError("two inputs would write the same output: " + printable("; ".join(clashes)) + " (pass their common folder instead)")
