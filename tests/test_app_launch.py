"""The three documented ways to start the app: `python app.py`, `python app.py --share`, and
the notebook (tests/test_notebook.py). The real local launch is exercised by tests/demo/ui/test_server.py
and test_browser.py there, which run `python app.py` itself."""

import runpy
import subprocess
import sys

import gradio as gr
import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.slow  # builds the app with the real model, or runs app.py in a subprocess


@pytest.fixture
def recorded_launches(monkeypatch):
    calls = []
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, *args, **kwargs: calls.append((self, args, kwargs)))
    monkeypatch.chdir(REPO_ROOT)
    for name in ("OCR_SHARE", "GRADIO_SHARE", "OCR_HOST", "GRADIO_SERVER_NAME", "OCR_PORT", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(name, raising=False)
    return calls


def run_app_script(monkeypatch, *flags):
    monkeypatch.setattr(sys, "argv", ["app.py", *flags])
    return runpy.run_path(str(REPO_ROOT / "app.py"), run_name="__main__")


def test_share_flag_reaches_launch(monkeypatch, recorded_launches):
    namespace = run_app_script(monkeypatch, "--share", "--port", "7999")
    assert len(recorded_launches) == 1
    blocks, args, kwargs = recorded_launches[0]
    assert blocks is namespace["demo"] and args == ()
    assert kwargs["share"] is True
    assert kwargs["server_port"] == 7999 and kwargs["server_name"] == "127.0.0.1"
    assert kwargs["max_file_size"] == namespace["CONFIG"].max_file_size
    assert kwargs["show_error"] is False


def test_plain_run_is_local_only(monkeypatch, recorded_launches):
    run_app_script(monkeypatch)
    _, _, kwargs = recorded_launches[0]
    assert kwargs["share"] is False and kwargs["server_name"] == "127.0.0.1" and kwargs["server_port"] == 7860


def test_imported_like_on_spaces_builds_demo_from_the_environment(monkeypatch, recorded_launches):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("MAX_RESULTS_IN_MEMORY", "4")
    monkeypatch.setattr(sys, "argv", ["something-else", "--unrelated-flag"])
    namespace = runpy.run_path(str(REPO_ROOT / "app.py"), run_name="app")
    assert recorded_launches == []  # importing never launches
    assert isinstance(namespace["demo"], gr.Blocks)
    assert namespace["CONFIG"].host == "0.0.0.0" and namespace["CONFIG"].max_results_in_memory == 4
    namespace["demo"].launch(quiet=True)  # the Blocks' own launch() applies the app's settings
    _, _, kwargs = recorded_launches[0]
    assert kwargs["server_name"] == "0.0.0.0" and kwargs["quiet"] is True


def test_help_lists_the_flags_without_loading_the_model():
    completed = subprocess.run(
        [sys.executable, "app.py", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    for flag in ("--share", "--port", "--host", "--max-results", "--max-display-size", "--preset", "--queue-size"):
        assert flag in completed.stdout
