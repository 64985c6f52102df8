"""notebooks/quickstart.ipynb runs headless (nbclient) and shows the live app inline, without blocking."""

import re
import time
import urllib.request

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import REPO_ROOT, free_port

pytestmark = pytest.mark.slow  # a notebook kernel launches the real app (real model)

NOTEBOOK = REPO_ROOT / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_launches_the_app_inline(monkeypatch, tmp_path):
    port = free_port()
    monkeypatch.setenv("OCR_PORT", str(port))
    monkeypatch.setenv("OCR_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    with client.setup_kernel():
        started = time.monotonic()
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)  # raises CellExecutionError on any error
        # launch() returned (did not block the kernel); its inline output is an iframe on our port
        html = "".join(
            output.get("data", {}).get("text/html", "")
            for cell in notebook.cells
            if cell.cell_type == "code"
            for output in cell.get("outputs", [])
        )
        assert re.search(rf"<iframe[^>]+src=\"http://(127\.0\.0\.1|localhost):{port}/?\"", html), html[:500]
        # the server behind the iframe is alive while the kernel runs
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
            assert response.status == 200
            assert "OCR demo" in response.read().decode("utf-8", "replace")
        assert time.monotonic() - started < 300


FINETUNE_NOTEBOOK = REPO_ROOT / "notebooks" / "finetune.ipynb"


def test_finetune_notebook_trains_plots_and_compares():
    """The notebook fine-tunes on its generated folder, plots, and prints before/after lines. Its budget (under
    2 minutes in CI) is checked on the kernel's CPU time: wall time on a shared, loaded machine says little."""
    import psutil

    notebook = nbformat.read(FINETUNE_NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(FINETUNE_NOTEBOOK.parent)}}
    )
    with client.setup_kernel():
        kernel = psutil.Process(client.km.provisioner.process.pid)
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)  # raises CellExecutionError on any error
        cpu = kernel.cpu_times()
        cpu_seconds = cpu.user + cpu.system + cpu.children_user + cpu.children_system
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    text = "".join(output.get("text", "") for output in outputs)
    assert any("image/png" in output.get("data", {}) for output in outputs), "no plot"
    assert "before: CER" in text and "after:  CER" in text and "best epoch" in text
    assert text.count("truth: ") >= 2  # the held-out page's lines, before and after
    assert cpu_seconds < 120, f"the notebook used {cpu_seconds:.0f} CPU seconds (CI budget: under 2 minutes)"
