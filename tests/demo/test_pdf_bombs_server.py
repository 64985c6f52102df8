"""The four PDF bombs of issue 14 through the real server (`python app.py`, real model) over raw HTTP:
each is answered within its page limit with a per-page message, the server's memory does not move, and a
normal `/ocr` request right after is answered at once. Limits are small (2 s / 256 MB per page) so each
bomb costs the test about 2 s a page; tests/ocr_model/inputs/test_pdf_process.py has the unit tests."""

from __future__ import annotations

import io
import json
import statistics
import time
from collections.abc import Iterator

import psutil
import pytest

import pdf_bombs
from conftest import AppServer
from pdf_samples import text_page

META = {"_type": "gradio.FileData"}
LIMIT_S = 2
# Per bomb page beyond the limit: killing the renderer, starting a fresh one, sending the document again
# (~1 MB), on a loaded 2-core machine; plus the request's own round trip once.
PAGE_SLACK_S = 3.0
REQUEST_SLACK_S = 5.0
BOMBS = [
    # builder, pages that must be cut off (each is followed by one normal page)
    (pdf_bombs.inflating_content_pdf, 1),
    (pdf_bombs.jpx_claiming_pdf, 1),
    (pdf_bombs.repeated_image_pdf, 1),
    (pdf_bombs.stroke_storm_pdf, 2),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    env = {"OCR_PDF_PAGE_SECONDS": str(LIMIT_S), "OCR_PDF_PAGE_MB": "256"}
    with AppServer(tmp_path_factory.mktemp("pdf-bombs"), env=env) as app:
        yield app


def ocr(server: AppServer, name: str, payload: bytes) -> tuple[dict, float]:
    """Upload `payload` and read it through `/ocr` with raw HTTP: (the JSON record, seconds of the call)."""
    status, body = server.post_upload(name, payload)
    assert status == 200, body[:300]
    started = time.monotonic()
    answer = server.queue_call("ocr", [{"path": json.loads(body)[0], "meta": META}])
    elapsed = time.monotonic() - started
    assert answer.get("success") is True, str(answer)[:1000]
    record = answer["output"]["data"][0]
    return (json.loads(record) if isinstance(record, str) else record), elapsed


def small_text_png() -> bytes:
    buffer = io.BytesIO()
    text_page(["HELLO 2024"], size=(420, 120), top=30).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.slow
def test_pdf_bombs_are_answered_within_the_limit_without_server_memory_or_stalls(server: AppServer) -> None:
    process = psutil.Process(server.process.pid)
    normal = small_text_png()
    # warm up: the engine's first call, and the renderer process started by a first PDF
    ocr(server, "warm.png", normal)
    record, _ = ocr(server, "warm.pdf", pdf_bombs.normal_pdf(1))
    assert record["page_count"] == 1 and "could not be rendered" not in (record["pages"][0]["note"] or "")
    # What a normal request takes on this machine now: the bound below is 2 s, or 3x that (the median of
    # three) on a machine loaded enough to be slower (at load 20 on 2 cores one took 0.44-2.2 s); a
    # server stalled behind a PDF took 43 s before.
    baseline_s = statistics.median(ocr(server, "normal.png", normal)[1] for _ in range(3))
    normal_bound_s = max(2.0, 3 * baseline_s)
    rss_before = process.memory_info().rss

    for build, bomb_pages in BOMBS:
        name = f"{build.__name__}.pdf"
        data = build()
        record, elapsed = ocr(server, name, data)
        rss_grown_mb = (process.memory_info().rss - rss_before) / 1e6
        notes = [page["note"] for page in record["pages"]]

        assert record["page_count"] == bomb_pages + 1 and len(notes) == bomb_pages + 1, (name, notes)
        for number in range(1, bomb_pages + 1):
            assert f"Page {number} could not be rendered within {LIMIT_S} s / 256 MB" in notes[number - 1], (name, notes)
            assert record["pages"][number - 1]["lines"] == []
            # the record says why, as the command line's does (ocr_model/exporters/records.py)
            assert record["pages"][number - 1]["error"] == f"Page {number} could not be rendered within {LIMIT_S} s / 256 MB."
        assert "could not be rendered" not in notes[-1] and "error" not in record["pages"][-1], (name, notes)
        assert elapsed < bomb_pages * (LIMIT_S + PAGE_SLACK_S) + REQUEST_SLACK_S, f"{name}: {elapsed:.1f} s"
        assert rss_grown_mb < 100, f"{name}: server RSS grew {rss_grown_mb:.0f} MB"

        record, normal_s = ocr(server, "normal.png", normal)
        print(f"{name}: {len(data)} bytes, answered in {elapsed:.1f} s, server RSS {rss_grown_mb:+.0f} MB, next /ocr {normal_s:.2f} s (alone: median {baseline_s:.2f} s)")
        assert "HELLO" in " ".join(line["text"] for line in record["lines"])
        assert normal_s < normal_bound_s, f"a normal /ocr after {name} took {normal_s:.2f} s (alone: {baseline_s:.2f} s)"
