"""The real app (`python app.py`) with checkpoint choices: started with --checkpoint ppocrv6-tiny and a
checkpoint folder; the folder's good file is offered and usable by name, its broken file reported and
left out; names not in the list (paths included) are refused, through gradio_client and raw HTTP."""

import json
import shutil
import urllib.request

import pytest
from gradio_client import Client, handle_file

from conftest import ASSETS_DIR, AppServer
from ocr_model.checkpoints import TINY_FILE

pytestmark = pytest.mark.slow
META = {"_type": "gradio.FileData"}
REFUSED_NAMES = ["ppocrv6-huge", "../x.safetensors", "/etc/passwd", "receipts-v1.safetensors"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    directory = tmp_path_factory.mktemp("checkpoints")
    shutil.copyfile(TINY_FILE, directory / "receipts-v1.safetensors")  # a valid checkpoint under a new name
    (directory / "broken.safetensors").write_bytes(b"\x00" * 64)
    return directory


@pytest.fixture(scope="module")
def server(folder, tmp_path_factory):
    args = ("--checkpoint", "ppocrv6-tiny", "--checkpoint-dir", str(folder))
    with AppServer(tmp_path_factory.mktemp("server"), extra_args=args) as app:
        yield app


def client_for(server, tmp_path) -> Client:
    # httpx's default 5 s is too short for the queue join (validators run there) on a loaded machine
    return Client(server.url, verbose=False, download_files=str(tmp_path), analytics_enabled=False, httpx_kwargs={"timeout": 120})


def words(record) -> set[str]:
    return {word for line in record["lines"] for word in line["text"].split()}


def test_the_folder_is_read_at_startup_and_its_checkpoint_is_a_model_choice(server, folder):
    log = server.log()
    assert "checkpoints offered: ppocrv6-tiny, ppocrv6-small, ppocrv6-small-receipts, receipts-v1 (default ppocrv6-tiny)" in log
    assert "broken.safetensors left out" in log
    with urllib.request.urlopen(server.url + "config", timeout=30) as response:
        config = json.loads(response.read())
    model = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "model")
    names = [choice[1] for choice in model["props"]["choices"]]
    assert names == ["ppocrv6-tiny", "ppocrv6-small", "ppocrv6-small-receipts", "receipts-v1"]
    assert model["props"]["value"] == "ppocrv6-tiny"
    assert str(folder) not in json.dumps(config)  # the page names checkpoints, never the server's paths


def test_ocr_reads_with_the_default_or_a_listed_name_and_says_which(server, tmp_path):
    client = client_for(server, tmp_path)
    default = client.predict(handle_file(ASSETS_DIR / "receipt.jpg"), api_name="/ocr")
    assert default["checkpoint"] == "ppocrv6-tiny" and {"TOTAL", "16.42"} <= words(default)
    named = client.predict(handle_file(ASSETS_DIR / "receipt.jpg"), "receipts-v1", api_name="/ocr")
    assert named["checkpoint"] == "receipts-v1"
    assert [line["text"] for line in named["lines"]] == [line["text"] for line in default["lines"]]  # same weights


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_a_name_not_in_the_list_is_refused_through_gradio_client(server, folder, tmp_path, name):
    with pytest.raises(Exception, match="unknown checkpoint") as refused:
        client_for(server, tmp_path).predict(handle_file(ASSETS_DIR / "receipt.jpg"), name, api_name="/ocr")
    message = str(refused.value)
    assert "choose one of ppocrv6-tiny, ppocrv6-small, ppocrv6-small-receipts, receipts-v1" in message
    assert str(folder) not in message and "Traceback" not in message


def test_a_name_not_in_the_list_is_refused_through_raw_http_and_old_calls_still_work(server, folder):
    status, body = server.post_upload("receipt.jpg", (ASSETS_DIR / "receipt.jpg").read_bytes(), "image/jpeg")
    assert status == 200, body[:200]
    image = {"path": json.loads(body)[0], "meta": META}
    for name in [*REFUSED_NAMES, 7, ["ppocrv6-tiny"]]:
        answer = server.queue_call("ocr", [image, name])
        assert answer.get("success") is False, answer
        error = answer["output"]["error"]
        assert "unknown checkpoint" in error and str(folder) not in error, error
    # A path into the folder is refused like any other text: the answer (which echoes what was sent, cut
    # to 60 characters) does not tell an existing checkpoint file from a missing one.
    told = set()
    for path in (folder / "receipts-v1.safetensors", folder / "missing.safetensors"):
        answer = server.queue_call("ocr", [image, str(path)])
        assert answer.get("success") is False, answer
        told.add(answer["output"]["error"].replace(str(path)[:60], "<sent>"))
    assert len(told) == 1 and "unknown checkpoint '<sent>'; choose one of" in told.pop()
    old = server.queue_call("ocr", [image])  # a raw call from before the parameter: the default reads it
    assert old.get("success") is True, old
    assert old["output"]["data"][0]["checkpoint"] == "ppocrv6-tiny"


def test_run_with_compare_reads_the_page_twice_and_marks_the_differences(server, tmp_path):
    outputs = client_for(server, tmp_path).predict(
        handle_file(ASSETS_DIR / "receipt.jpg"), "off", 960, 0.0, False, "auto", "ppocrv6-tiny", "receipts-v1", api_name="/run"
    )
    summary, update = outputs[5], outputs[-1]
    assert "checkpoint `ppocrv6-tiny`" in summary
    assert update["visible"] is True
    compare = update["value"]
    assert "lines read the same</strong> with <code>ppocrv6-tiny</code> and <code>receipts-v1</code>" in compare
    assert "class='differs'" not in compare and compare.count("class='same'") >= 10


def test_the_compare_view_of_a_pdf_follows_its_page_turns(server, tmp_path):
    """Previous / Next left page 1's comparison beside the other pages' results."""
    from pdf_samples import pdf_of_images, text_page

    pdf = tmp_path / "report.pdf"
    pages = [text_page([f"{word} page {n}11"], size=(425, 300)) for n, word in ((1, "First"), (2, "Second"), (3, "Third"))]
    pdf.write_bytes(pdf_of_images(pages, resolution=50.0))
    client = client_for(server, tmp_path)
    outputs = client.predict(handle_file(pdf), "off", 960, 0.0, False, "auto", "ppocrv6-tiny", "receipts-v1", api_name="/run")
    compared = outputs[-1]["value"]
    assert outputs[-1]["visible"] is True and "Page 1 of 3:</span>" in compared and "First page 111" in compared

    def turn(event: str) -> dict:
        answer = server.queue_call(event, [None, 0.0, False], session_hash=client.session_hash)
        assert answer.get("success") is True, str(answer)[:300]
        data = answer["output"]["data"]
        (view,) = [value for value in data if isinstance(value, dict) and "compare" in str(value.get("value"))]
        return {"visible": view.get("visible"), "value": view["value"], "all": json.dumps(data)}

    second = turn("next_page")
    assert "Second page 211" in second["all"] and second["visible"] is True
    assert "covers page 1 only" in second["value"] and "First page 111" not in second["value"]
    first = turn("previous_page")
    assert "First page 111" in first["all"] and first["visible"] is True and first["value"] == compared
