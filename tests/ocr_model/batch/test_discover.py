"""Discovery against hostile trees: special files, symlink loops, links to parent folders, `..` globs and
names with control characters. Nothing here may block, loop or raise anything but InputSpecError."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path, PurePosixPath

import pytest

from ocr_model.batch.discover import discover, discover_inputs, printable
from ocr_model.batch.outputs import output_paths
from ocr_model.exporters.formats import parse_formats


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def within(seconds: float, function, *args, **kwargs):
    """`function(*args)` in a daemon thread: its result, or a test failure if it has not returned in time."""
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = function(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            result["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{function.__name__} did not return within {seconds} s")
    if "error" in result:
        raise result["error"]
    return result["value"]


def relatives(items) -> list[str]:
    return [item.relative.as_posix() for item in items]


def test_fifos_sockets_and_devices_are_reported_and_not_taken(tmp_path):
    root = tmp_path / "in"
    touch(root / "good.png")
    os.mkfifo(root / "pipe.png")
    os.mkfifo(tmp_path / "named-pipe.jpg")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock.png"))
    try:
        found = within(10, discover, [root, tmp_path / "named-pipe.jpg", "/dev/null"])
    finally:
        server.close()
    assert relatives(found.inputs) == ["good.png"]
    why = {Path(item.path).name: item.why for item in found.skipped}
    assert why == {
        "pipe.png": "not a regular file: a FIFO (named pipe)",
        "sock.png": "not a regular file: a socket",
        "named-pipe.jpg": "not a regular file: a FIFO (named pipe)",
        "null": "not a regular file: a character device",
    }
    assert relatives(within(10, discover_inputs, [root])) == ["good.png"]  # the list-only API drops them too


def test_symlink_loops_are_reported_not_raised(tmp_path):
    root = tmp_path / "in"
    touch(root / "good.png")
    (root / "self.png").symlink_to("self.png")
    (root / "ping.png").symlink_to("pong.png")
    (root / "pong.png").symlink_to("ping.png")
    (root / "gone.png").symlink_to("nowhere.png")
    found = within(10, discover, [root, root / "self.png", f"{root}/p*.png"])
    assert relatives(found.inputs) == ["good.png"]
    reasons = sorted((Path(item.path).name, item.why) for item in found.skipped)  # each once, though named twice
    assert reasons == [("gone.png", reasons[0][1])] + [(name, "a symbolic link loop") for name in ["ping.png", "pong.png", "self.png"]]
    assert reasons[0][1].startswith("a broken symbolic link")


def test_globs_and_folders_do_not_follow_links_to_parent_folders(tmp_path):
    root = tmp_path / "in"
    touch(root / "top.png")
    touch(root / "sub" / "deep.png")
    (root / "up").symlink_to("..")
    (root / "here").symlink_to(".")
    (root / "sub" / "back").symlink_to("..")
    # Python's glob follows these: `in/**/*.png` ran for more than 45 s before any work started.
    assert relatives(within(10, discover_inputs, [f"{root}/**/*.png"])) == ["sub/deep.png", "top.png"]
    assert relatives(within(10, discover_inputs, [root])) == ["top.png", "sub/deep.png"]


def test_a_glob_through_dotdot_gives_outputs_inside_the_output_folder(tmp_path, monkeypatch):
    root = tmp_path / "in"
    touch(root / "a" / "x.png")
    touch(root / "y.png")
    monkeypatch.chdir(tmp_path)
    found = discover_inputs(["in/*/../*.png", "in/a/../a/*.png"])
    assert relatives(found) == ["y.png", "x.png"]
    formats = parse_formats("json")
    for item in found:
        (path,) = output_paths(tmp_path / "out", item.relative, formats)
        assert path.is_relative_to(tmp_path / "out")


def test_a_link_to_a_file_outside_the_tree_is_followed_unless_asked_not_to(tmp_path):
    touch(tmp_path / "outside.png")
    touch(tmp_path / "in" / "inside.png")
    (tmp_path / "in" / "link.png").symlink_to(tmp_path / "outside.png")
    assert relatives(discover_inputs([tmp_path / "in"])) == ["inside.png", "link.png"]
    found = discover([tmp_path / "in"], follow_symlinks=False)
    assert relatives(found.inputs) == ["inside.png"]
    assert [(Path(item.path).name, item.why) for item in found.skipped] == [
        ("link.png", "a symbolic link (not followed: --no-follow-symlinks)")
    ]


def test_printable_escapes_every_control_character():
    assert printable("x\n2 inputs: 2 done, 0 failed.png") == "x\\n2 inputs: 2 done, 0 failed.png"
    assert printable("\x1b[2Jevil\r\u202egnp.exe\u2028") == "\\x1b[2Jevil\\r\\u202egnp.exe\\u2028"
    assert printable("caf\u00e9 \u4e2d\u6587.png") == "caf\u00e9 \u4e2d\u6587.png"  # ordinary letters stay
    assert printable("a\\nb") == "a\\\\nb"  # a real backslash-n is not confused with a newline
    assert printable(os.fsdecode(b"bad\xffbyte")) == "bad\\udcffbyte"
    assert "\n" not in printable(PurePosixPath("d/\n").as_posix())


def test_expand_glob_matches_pythons_glob_on_a_tree_without_links(tmp_path, monkeypatch):
    import glob

    from ocr_model.batch.discover import expand_glob

    for name in ["in/x.png", "in/a/y.png", "in/a/b/z.png", "in/a/b/q.jpg", "in/.h/h.png", "in/.dot.png", "in/c/w.PNG"]:
        touch(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    patterns = ["in/**/*.png", "in/*/*.png", "**/*.png", "in/**", "in/a/../*.png", "in/[ab]/*", "in/?/y.png",
                f"{tmp_path}/in/**/*.png", "in/**/b/*", "in/*.png", "in/.*.png", "in/*/nothing.png"]
    for pattern in patterns:
        expected = sorted(path.rstrip("/") for path in glob.glob(pattern, recursive=True))
        assert expand_glob(pattern) == expected, pattern
