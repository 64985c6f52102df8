"""The real `python -m ocr_model` over a hostile tree: it must finish, say what it skipped, print no
traceback and no line a file name forged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import REPO_ROOT

FORGED = "x\n2 inputs: 2 done, 0 skipped (already complete), 0 failed; 2 images\x1b[2K.png"


def run_cli(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    env = dict(os.environ, OCR_DEVICE="cpu", PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, "-m", "ocr_model", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def hostile_tree(root: Path) -> None:
    (root / "in" / "sub").mkdir(parents=True)
    image = Image.new("RGB", (220, 60), "white")
    ImageDraw.Draw(image).text((10, 20), "HELLO 42", fill="black")
    image.save(root / "in" / "sub" / "good.png")
    (root / "in" / FORGED).write_bytes(b"\x89PNG\r\n\x1a\n not really")  # fails to decode: its name is reported
    os.mkfifo(root / "in" / "pipe.png")  # opening it for reading would block until a writer comes
    (root / "in" / "self.png").symlink_to("self.png")
    (root / "in" / "ping.png").symlink_to("pong.png")
    (root / "in" / "pong.png").symlink_to("ping.png")
    (root / "in" / "up").symlink_to("..")
    (root / "in" / "here").symlink_to(".")


@pytest.mark.slow  # loads the real model twice (about 10 s each on 2 cores)
def test_a_hostile_tree_is_reported_and_skipped_without_hanging_or_a_traceback(tmp_path):
    hostile_tree(tmp_path)
    args = ["in/**/*.png", "in/sub/../*.png", "--out", "out", "--format", "json,txt", "--no-progress", "--workers", "1"]
    first = run_cli(*args, cwd=tmp_path)
    assert "Traceback" not in first.stderr, first.stderr
    assert first.returncode == 1, first.stderr  # some inputs failed
    assert first.stdout.count("\n") == 1 and first.stdout.startswith("6 inputs: 1 done, 0 skipped (already complete), 5 failed")
    stderr_lines = first.stderr.splitlines()
    assert not any(line.startswith("2 inputs") for line in stderr_lines) and "\x1b" not in first.stderr
    assert "  x\\n2 inputs: 2 done, 0 skipped (already complete), 0 failed; 2 images\\x1b[2K.png: " in first.stderr
    for name, why in [("pipe.png", "a FIFO"), ("self.png", "a symbolic link loop"), ("ping.png", "a symbolic link loop")]:
        assert any(name in line and why in line for line in stderr_lines), (name, first.stderr)
    assert json.loads((tmp_path / "out" / "sub" / "good.png.json").read_text())["file"] == "sub/good.png"

    (tmp_path / "out" / "sub" / "good.png.txt").write_bytes(b"")  # a 0-byte output: --resume must redo it
    again = run_cli(*args, "--resume", cwd=tmp_path)
    assert "Traceback" not in again.stderr and again.returncode == 1, again.stderr
    assert again.stdout.startswith("6 inputs: 1 done, 0 skipped (already complete), 5 failed")
    assert "HELLO" in (tmp_path / "out" / "sub" / "good.png.txt").read_text()
    third = run_cli(*args, "--resume", cwd=tmp_path)
    assert third.stdout.startswith("6 inputs: 0 done, 1 skipped (already complete), 5 failed")


@pytest.mark.slow  # runs `python -m ocr_model` in a subprocess
def test_an_unknown_checkpoint_is_refused_before_any_work(tmp_path):
    Image.new("RGB", (64, 32), "white").save(tmp_path / "a.png")
    result = run_cli("a.png", "--checkpoint", "ppocrv9-huge", cwd=tmp_path, timeout=60)
    assert result.returncode == 2 and "unknown checkpoint 'ppocrv9-huge'" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # runs `python -m ocr_model` with the real tiny checkpoint
def test_the_tiny_checkpoint_reads_and_is_named_in_the_json(tmp_path):
    image = Image.new("RGB", (360, 90), "white")
    ImageDraw.Draw(image).text((20, 30), "HELLO 42", fill="black", font_size=32)
    image.save(tmp_path / "a.png")
    result = run_cli("a.png", "--checkpoint", "ppocrv6-tiny", "--json", "out.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "checkpoint: ppocrv6-tiny" in result.stderr and "HELLO" in result.stdout
    assert json.loads((tmp_path / "out.json").read_text())["images"][0]["checkpoint"] == "ppocrv6-tiny"
