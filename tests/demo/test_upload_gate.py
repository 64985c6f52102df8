"""The upload gate through the real server: hand-made payloads sent with raw HTTP (Gradio's queue protocol)
and with gradio_client. Every file-like value must name a file the server received as an upload; anything
else (server paths, URLs, data: URLs, symlinks out, FIFOs, lists where one file is expected, files in
inputs that take none) gets the same short refusal, before Gradio reads, copies, downloads or decodes it.
"""

from __future__ import annotations

import base64
import http.server
import io
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from gradio_client import Client, handle_file
from PIL import Image, ImageDraw, ImageFont

from bench.sample_images import png_bytes
from conftest import AppServer, wait_for
from demo.uploads import REFUSED_MESSAGE

META = {"_type": "gradio.FileData"}


@pytest.fixture(scope="module")
def server(shared_server: AppServer) -> AppServer:
    return shared_server  # tests/conftest.py: batches of up to SHARED_MAX_BATCH_FILES (3) files


@pytest.fixture(scope="module")
def private_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the server's temp dir holding a 'private' image with readable text."""
    folder = tmp_path_factory.mktemp("private")
    canvas = Image.new("L", (420, 110), 255)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 44)
    except OSError:
        font = ImageFont.load_default(size=44)
    ImageDraw.Draw(canvas).text((18, 24), "SECRET 4242", font=font, fill=0)
    canvas.save(folder / "private_card.png")
    return folder


def upload(server: AppServer, name: str, payload: bytes) -> str:
    status, body = server.post_upload(name, payload)
    assert status == 200, body[:300]
    return json.loads(body)[0]


def assert_refused(message: dict[str, Any]) -> None:
    """Refused by the gate: as the event's error, or at queue/join (HTTP 400) when the event has a
    validator (Gradio runs validators at join time, through the same gate)."""
    assert message.get("success") is False, f"not refused: {str(message)[:400]}"
    if "status" in message:
        assert message["status"] == 400 and REFUSED_MESSAGE in message["body"], message
        assert len(message["body"]) < 200, message
    else:
        assert (message.get("output") or {}).get("error") == REFUSED_MESSAGE, message


def run_args(image: Any) -> list[Any]:
    """The /run and /batch events' inputs: image(s), upside-down check, detection size, min confidence,
    write text, page orientation, then States (their values are never taken from the request): /run's
    PDF of the Single tab and history; /batch's history. A list of files means /batch."""
    states = [None] if isinstance(image, list) else [None, None]
    return [image, "auto", 1600, 0.0, False, "auto", *states]


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


# --- server paths -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_meta", [False, True], ids=["bare-dict", "with-meta"])
def test_a_server_path_is_refused_on_every_endpoint(server: AppServer, private_dir: Path, with_meta: bool) -> None:
    payload: dict[str, Any] = {"path": str(private_dir / "private_card.png")}
    if with_meta:
        payload["meta"] = META
    for api_name, data in (("ocr", [payload]), ("run", run_args(payload)), ("batch", run_args([payload]))):
        answer = server.queue_call(api_name, data)
        assert_refused(answer)
        assert "SECRET" not in json.dumps(answer)


def test_refusals_are_identical_whatever_exists_on_disk(server: AppServer, private_dir: Path) -> None:
    targets = [
        "/etc/shadow",
        "/etc/passwd",
        "/proc/self/environ",
        "/definitely/not/here.png",
        str(private_dir),
        str(private_dir / "private_card.png"),
        str(server.temp_dir / "gradio" / ".." / ".." / "private_card.png"),
        str(server.temp_dir / "gradio") + "/../../../../etc/passwd",
        "relative/path.png",
        "",
        "C:\\Windows\\win.ini",
    ]
    answers = {target: server.queue_call("ocr", [{"path": target, "meta": META}]) for target in targets}
    for target, answer in answers.items():
        assert_refused(answer)
    # Everything the client is told, less the per-event id: identical for every target.
    told = {json.dumps({key: value for key, value in answer.items() if key != "event_id"}, sort_keys=True) for answer in answers.values()}
    assert len(told) == 1, told


def test_a_symlink_in_the_upload_folder_pointing_out_is_refused(server: AppServer, private_dir: Path) -> None:
    anchor = Path(upload(server, "anchor.png", png_bytes()))
    link = anchor.parent / "link.png"
    link.symlink_to(private_dir / "private_card.png")
    answer = server.queue_call("ocr", [{"path": str(link), "meta": META}])
    assert_refused(answer)
    assert "SECRET" not in json.dumps(answer)


def test_a_fifo_in_the_upload_folder_is_refused_without_blocking(server: AppServer) -> None:
    anchor = Path(upload(server, "anchor2.png", png_bytes((80, 40))))
    fifo = anchor.parent / "pipe.png"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert_refused(server.queue_call("ocr", [{"path": str(fifo), "meta": META}], timeout=30))
    assert time.monotonic() - started < 10


# --- URLs -------------------------------------------------------------------------------------------------


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).hits.append(self.path)
        body = png_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def url_server() -> Iterator[str]:
    _RecordingHandler.hits = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/image.png"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    "make_payload",
    [
        lambda url: {"path": url, "meta": META},
        lambda url: {"path": url},
        lambda url: {"path": None, "url": url, "meta": META},
        lambda url: {"path": url.replace("http:", "HTTP:"), "meta": META},
        lambda url: {"path": url.replace("http:", ""), "meta": META},  # scheme-relative //host/...
        lambda url: {"path": "file://" + url, "meta": META},
    ],
    ids=["path-url-meta", "path-url-bare", "url-field", "upper-case", "scheme-relative", "file-url"],
)
def test_urls_are_refused_and_never_fetched(server: AppServer, url_server: str, make_payload: Any) -> None:
    assert_refused(server.queue_call("ocr", [make_payload(url_server)]))
    assert_refused(server.queue_call("run", run_args(make_payload(url_server))))
    # a fetch would come while the refused request runs; poll a little longer, failing at the first hit
    assert wait_for(lambda: _RecordingHandler.hits, timeout=0.5) == [], "the server fetched a URL for the caller"


def test_a_file_object_smuggled_into_a_non_file_input_is_refused(server: AppServer, url_server: str) -> None:
    anchor = upload(server, "anchor3.png", png_bytes())
    smuggled = {"path": url_server, "meta": META}
    data = [{"path": anchor, "meta": META}, smuggled, 1600, 0.0, False, "auto", None, None]  # in the orientation radio
    assert_refused(server.queue_call("run", data))
    assert wait_for(lambda: _RecordingHandler.hits, timeout=0.5) == []


def _data_url_bomb() -> str:
    """A ~20 KB PNG declaring 13000x13000 pixels, as a data: URL."""
    buffer = io.BytesIO()
    Image.new("1", (13000, 13000), 1).save(buffer, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_data_urls_are_refused_before_anything_decodes_them(server: AppServer) -> None:
    data_url = _data_url_bomb()
    process = psutil.Process(server.process.pid)
    rss_before = process.memory_info().rss
    started = time.monotonic()
    for payload in ({"path": None, "url": data_url}, {"path": None, "url": data_url, "meta": META}, {"url": data_url}):
        assert_refused(server.queue_call("ocr", [payload]))
        assert_refused(server.queue_call("run", run_args(payload)))
    elapsed = time.monotonic() - started
    grown_mb = (process.memory_info().rss - rss_before) / 2**20
    assert elapsed < 10, f"six refusals took {elapsed:.1f} s: something decoded the data URL"
    assert grown_mb < 200, f"server memory grew by {grown_mb:.0f} MB: something decoded the data URL"


def test_a_data_url_beside_a_valid_upload_path_is_refused(server: AppServer) -> None:
    anchor = upload(server, "anchor4.png", png_bytes())
    assert_refused(server.queue_call("ocr", [{"path": anchor, "url": "data:image/png;base64,AAAA", "meta": META}]))


# --- shapes: lists, streams, counts -----------------------------------------------------------------------


def test_a_list_where_one_file_is_expected_is_refused(server: AppServer) -> None:
    anchor = upload(server, "anchor5.png", png_bytes())
    assert_refused(server.queue_call("ocr", [[{"path": anchor, "meta": META}]]))
    assert_refused(server.queue_call("ocr", [{"path": anchor, "meta": META, "is_stream": True}]))


def test_a_batch_above_the_limit_is_refused_before_any_file_is_copied(server: AppServer) -> None:
    anchor = upload(server, "anchor6.png", png_bytes())
    temp_dir = server.temp_dir / "gradio"
    before = len(files_under(temp_dir))
    answer = server.queue_call("batch", run_args([{"path": anchor, "meta": META}] * 500))
    assert_refused(answer)
    assert len(files_under(temp_dir)) == before, "files were copied for a refused batch"


def test_an_uploaded_file_passes_the_gate(server: AppServer) -> None:
    # Positive control for the refusals above: the same hand-made payload shape with a real upload path.
    anchor = upload(server, "white.png", png_bytes((120, 60)))
    answer = server.queue_call("ocr", [{"path": anchor, "meta": META, "orig_name": "white.png"}])
    assert answer.get("success") is True, answer
    assert answer["output"]["data"][0]["lines"] == []
    batch = server.queue_call("batch", run_args([{"path": anchor, "meta": META}] * 2))
    assert batch.get("success") is True, batch


def test_gradio_client_gets_the_same_refusal_for_a_server_path(server: AppServer, private_dir: Path) -> None:
    client = Client(server.url, verbose=False, download_files=False, analytics_enabled=False)
    try:
        with pytest.raises(Exception) as caught:
            client.predict({"path": str(private_dir / "private_card.png")}, api_name="/ocr")
        assert REFUSED_MESSAGE in str(caught.value)
        assert "SECRET" not in str(caught.value)
        result = client.predict(handle_file(str(private_dir / "private_card.png")), api_name="/ocr")
        assert any("SECRET" in line["text"] for line in result["lines"]), "a real upload must still be read"
    finally:
        client.close()


# --- the other fields of a request ------------------------------------------------------------------------


def test_orig_name_and_mime_type_are_not_trusted(server: AppServer) -> None:
    anchor = upload(server, "plain.png", png_bytes((120, 60)))
    payload = {"path": anchor, "meta": META, "orig_name": "../../etc/`passwd`.png", "mime_type": "text/html", "size": -1}
    answer = server.queue_call("ocr", [payload])
    assert answer.get("success") is True, answer
    assert answer["output"]["data"][0]["file"] == "plain.png"  # the stored file's name, never the client's


@pytest.mark.parametrize(
    ("orientation", "detection_size", "min_confidence"),
    [
        ("sideways; rm -rf /", 1600, 0.0),
        ("auto", 10**12, 0.0),
        ("auto", -5, 0.0),
        ("auto", "1600", 0.0),
        ("auto", None, 0.0),
        ("auto", [1600], 0.0),
        ("auto", 1600, "high"),
        ("auto", 1600, float("inf")),
    ],
    ids=["orientation", "huge-size", "negative-size", "string-size", "null-size", "list-size", "string-conf", "inf-conf"],
)
def test_out_of_range_options_get_a_short_answer_and_the_server_keeps_serving(
    server: AppServer, orientation: Any, detection_size: Any, min_confidence: Any
) -> None:
    anchor = upload(server, "opts.png", png_bytes((120, 60)))
    started = time.monotonic()
    answer = server.queue_call("run", [{"path": anchor, "meta": META}, orientation, detection_size, min_confidence, False, "auto", None])
    assert time.monotonic() - started < 60
    if answer.get("success") is False:
        error = json.dumps(answer.get("output"))
        assert "Traceback" not in error and len(error) < 400, error
    follow_up = server.queue_call("ocr", [{"path": anchor, "meta": META}])
    assert follow_up.get("success") is True, follow_up


def test_the_model_endpoints_share_one_concurrency_slot(server: AppServer) -> None:
    # A page of text big enough that one run takes a noticeable time on the CPU.
    page = Image.new("L", (1800, 1400), 255)
    draw = ImageDraw.Draw(page)
    for row in range(14):
        draw.text((60, 60 + row * 90), f"LINE {row} OF A LONGER PAGE 12345", fill=0, font=ImageFont.load_default(size=48))
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    anchor = upload(server, "page.png", buffer.getvalue())
    file = {"path": anchor, "meta": META}
    calls = [("ocr", [file]), ("run", run_args(file)), ("batch", run_args([file]))]
    timelines: list[list[tuple[float, str]]] = [[] for _ in calls]
    answers: list[dict[str, Any]] = [{} for _ in calls]

    def call(index: int) -> None:
        api_name, data = calls[index]
        answers[index] = server.queue_call(api_name, data, events=timelines[index])

    threads = [threading.Thread(target=call, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert all(answer.get("success") for answer in answers), answers
    spans = sorted(
        (next(t for t, msg in timeline if msg == "process_starts"), next(t for t, msg in timeline if msg == "process_completed"))
        for timeline in timelines
    )
    # Each run takes seconds here; run together they would all start at once. The tolerance covers
    # event-stream delivery and the previous event's postprocessing (file writes), which run after the slot.
    for (_, previous_end), (next_start, _) in zip(spans, spans[1:]):
        assert next_start >= previous_end - 1.0, f"two model runs overlapped: {spans}"


def test_the_upload_components_render_with_gradios_own_front_ends() -> None:
    from demo.components import UploadedFiles, UploadedImage

    assert UploadedImage().get_block_name() == "image"
    assert UploadedFiles.create(max_files=2).get_block_name() == "file"
    batch = UploadedFiles.create(max_files=2, elem_id="batch", file_types=[".pdf"])
    assert batch.get_block_name() == "file"
    config = batch.get_config()  # Gradio reads these from the constructor's signature
    assert (config["elem_id"], config["file_count"], config["file_types"]) == ("batch", "multiple", [".pdf"])
    assert batch.file_slot.max_files == 2


# --- malformed calls and the API page -------------------------------------------------------------------------


def answer_text(message: dict[str, Any]) -> str:
    """The error a refused call gets: the event's error, or the body of a refused queue/join."""
    assert message.get("success") is False, f"not refused: {str(message)[:400]}"
    return message["body"] if "status" in message else str((message.get("output") or {}).get("error"))


def test_a_call_with_the_wrong_number_of_values_says_so_instead_of_blaming_a_file(server: AppServer) -> None:
    """Issue 18 (7): too few inputs were answered "Only files uploaded to this app can be read"."""
    # /ocr takes (image, checkpoint), /run adds Model and Compare with, /batch adds Model (issue 16's checkpoint choice);
    # a trailing optional input may be left out, so /ocr with [] is still one value short.
    for api_name, data, expected in [("ocr", [], 2), ("ocr", [None, None, None], 2), ("run", ["x"], 10), ("batch", [None] * 3, 8)]:
        text = answer_text(server.queue_call(api_name, data))
        assert f"takes {expected} input value" in text and f"the request sent {len(data)}" in text, (api_name, text)
        assert REFUSED_MESSAGE not in text


def test_the_api_page_snippets_send_a_local_file_and_the_python_one_runs_as_shown(server: AppServer, tmp_path: Path) -> None:
    """Issue 18 (7): the JavaScript snippet began with `await fetch("")` (throws), and the page said an image
    may be "a publicly available URL" (URLs are refused)."""
    import subprocess
    import sys
    import urllib.request

    from conftest import ASSETS_DIR

    with urllib.request.urlopen(server.url + "gradio_api/info", timeout=30) as response:
        info = json.loads(response.read())
    ocr = info["named_endpoints"]["/ocr"]
    parameters = [endpoint["parameters"] for endpoint in info["named_endpoints"].values()]
    assert "publicly available" not in json.dumps(parameters).lower()
    assert "URLs and base64 data are refused" in ocr["parameters"][0]["python_type"]["description"]
    snippets = ocr["code_snippets"]
    assert "fetch(" not in snippets["javascript"]
    assert 'const exampleImage = await openAsBlob("page.jpg");' in snippets["javascript"]
    assert snippets["javascript"].startswith('import { openAsBlob } from "node:fs";')
    assert "handle_file('page.jpg')" in snippets["python"]
    assert "/gradio_api/upload -F 'files=@" in snippets["bash"]  # curl uploads the file first

    (tmp_path / "page.jpg").write_bytes((ASSETS_DIR / "receipt.jpg").read_bytes())
    ran = subprocess.run([sys.executable, "-c", snippets["python"]], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "'lines_total'" in ran.stdout and "'file': 'page.jpg'" in ran.stdout
    script = tmp_path / "snippet.mjs"
    script.write_text(snippets["javascript"])
    checked = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr  # valid JavaScript (the client library is not installed here)
