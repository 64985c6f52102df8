"""The real app (`python app.py`) started with checkpoint choices: the default chosen with --checkpoint
serves and names itself in every result; the checkpoint folder is read at startup, broken files reported
and left out."""

import shutil

import pytest
from gradio_client import Client, handle_file

from conftest import ASSETS_DIR, AppServer
from ocr_model.checkpoints import TINY_FILE

pytestmark = pytest.mark.slow


def test_tiny_default_serves_and_names_itself_and_the_folder_is_read_at_startup(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copyfile(TINY_FILE, folder / "receipts-v1.safetensors")
    (folder / "broken.safetensors").write_bytes(b"\x00" * 64)
    with AppServer(tmp_path, extra_args=("--checkpoint", "ppocrv6-tiny", "--checkpoint-dir", str(folder))) as server:
        client = Client(server.url, verbose=False, download_files=str(tmp_path), analytics_enabled=False)
        result = client.predict(handle_file(ASSETS_DIR / "receipt.jpg"), api_name="/ocr")
        log = server.log()
    assert result["checkpoint"] == "ppocrv6-tiny"
    assert {"TOTAL", "16.42"} <= {word for line in result["lines"] for word in line["text"].split()}
    assert "checkpoints offered: ppocrv6-tiny, ppocrv6-small, receipts-v1 (default ppocrv6-tiny)" in log
    assert "broken.safetensors left out" in log
