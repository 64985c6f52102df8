"""Importing and building the app writes no Gradio `.pyi` stub into the source tree (demo/gradio_stubs.py).

Run on a fresh copy of demo/ in a new interpreter: in this process the modules are imported already (their
component classes exist, so Gradio would not write again), and a checkout may hold stubs from before."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # a fresh interpreter imports Gradio and torch (5 s of CPU)

SCRIPT = """
import sys
from pathlib import Path

import gradio as gr

import demo
from conftest import FakeEngine
from demo.ui import build_demo

assert Path(demo.__file__).resolve().is_relative_to(Path(sys.argv[1]).resolve()), demo.__file__
build_demo(model=FakeEngine())
import other_component  # a Gradio component subclass outside demo/: Gradio still writes its stub
"""


def test_building_the_demo_writes_no_pyi_beside_its_sources(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(REPO_ROOT / "demo", source / "demo", ignore=shutil.ignore_patterns("__pycache__", "*.pyi"))
    (source / "other_component.py").write_text("import gradio as gr\n\n\nclass OtherComponent(gr.HTML):\n    pass\n")
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(source), str(REPO_ROOT), str(REPO_ROOT / "tests")]),
        OCR_TEMP_DIR=str(tmp_path / "temp"),
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONDONTWRITEBYTECODE="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(source)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(path.relative_to(source).as_posix() for path in source.rglob("*.pyi")) == ["other_component.pyi"]
