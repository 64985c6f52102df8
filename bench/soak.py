"""Soak test: many requests of mixed sizes through one real server; is memory bounded?

Starts `python app.py` on a loopback port with its own temp directory, then sends `--requests` requests
(default 300) through `gradio_client`: SROIE receipts from ../shared/eval/sroie-dev when present, synthetic
screenshots and pages, a synthetic 35 MP scan every `--scan-every` requests and a synthetic 20-page PDF
(A4 pages of 20 lines, rendered by the app at 200 dpi: 1654x2339 px each) every `--pdf-every` requests,
starting at request `--pdf-every // 2` (so the first and the last 50 requests each hold one at the default
50). Every upload is unique (a JPEG comment, or a PDF comment after %%EOF) so Gradio's content-hash cache
cannot hide temp-dir growth, and the client starts a new session every `--session-every` requests (like users
coming and going).

After each request it records the server process's RSS (and how much of it maps files: shared libraries'
pages, which the kernel can drop and reread and other processes share; the rest is the process's own heap),
its live thread count, and the bytes and files in the server's temp directory. The summary gives RSS at
requests 1/50/100/150/300, the mean and median RSS of the first and of the last 50 requests (their difference:
the trend), the least-squares RSS slope over the second half (MB per 100 requests; bounded memory means about
0), and temp-dir and thread figures.

    .venv/bin/python bench/soak.py                      # 300 requests (about an hour on 2 CPU cores)
    .venv/bin/python bench/soak.py --requests 60 --scan-every 6 --pdf-every 0 --out /tmp/soak.json
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_server import SROIE_IMAGES, start_app, stop_servers_on_sigterm, word_recall  # noqa: E402
from sample_images import TextImage, make_text_page, unique_jpeg  # noqa: E402

MB = 1024 * 1024


@dataclass
class RequestRecord:
    index: int  # 1-based request number
    kind: str  # which input family: sroie, screenshot, page, scan35, pdf20
    name: str
    endpoint: str  # "run" (the browser's endpoint) or "ocr" (the JSON API)
    seconds: float
    ok: bool
    recall: float | None  # fraction of the drawn words found (synthetic inputs only)
    lines: int
    error: str | None
    rss_mb: float
    file_rss_mb: float  # of rss_mb: mapped files and shared memory (libraries' pages); the rest is the heap's
    threads: int
    temp_bytes: int
    temp_files: int


def call_endpoint(client: object, endpoint: str, image: object) -> dict[str, object]:
    """One request; returns {"lines": [{"text": ...}, ...]} for either endpoint.

    "/ocr" is the JSON API; "/run" is what the browser calls (history state, annotated display image,
    JSON download written to the temp dir), with the UI's default options.
    """
    if endpoint == "ocr":
        result = client.predict(image, api_name="/ocr")  # type: ignore[attr-defined]
        if isinstance(result, dict) and "pages" in result:  # a PDF: one record per page
            return {"lines": [line for page in result["pages"] for line in page.get("lines", [])]}
        return result
    outputs = client.predict(image, "auto", 1600, 0.0, False, api_name="/run")  # type: ignore[attr-defined]
    table = outputs[1]  # the lines table: {"lines": [{"n", "text", "confidence"}, ...]}
    lines = table.get("lines", []) if isinstance(table, dict) else []
    return {"lines": [{"text": str(line["text"])} for line in lines]}


PDF_PAGES = 20


def text_pdf(name: str, pages: int, seed: int) -> tuple[str, bytes, tuple[str, ...]]:
    """A PDF of `pages` A4 pages (1240x1754 px images at 150 dpi), 20 text lines each."""
    from PIL import Image

    images, lines = [], []
    for number in range(pages):
        page = make_text_page(f"{name}-{number}.jpg", 1240, 1754, 20, 26, seed + number)
        images.append(Image.open(io.BytesIO(page.data)))
        lines.extend(page.lines)
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:], resolution=150.0)
    return name, buffer.getvalue(), tuple(lines)


def unique_upload(data: bytes, tag: str) -> bytes:
    """`data` made unique: a JPEG comment segment, or a PDF comment line after the end marker."""
    if data.startswith(b"%PDF"):
        return data + b"\n%" + tag.encode("ascii") + b"\n"
    return unique_jpeg(data, tag)


def build_inputs(work_dir: Path, seed: int) -> dict[str, list[tuple[str, bytes, tuple[str, ...] | None]]]:
    """Input families: name -> [(file name, JPEG bytes, expected lines or None)]."""
    families: dict[str, list[tuple[str, bytes, tuple[str, ...] | None]]] = {}

    def synthetic(pages: list[TextImage]) -> list[tuple[str, bytes, tuple[str, ...] | None]]:
        return [(page.name, page.data, page.lines) for page in pages]

    families["screenshot"] = synthetic(
        [make_text_page(f"screenshot-{i}.jpg", 1280, 800, 8, 30, seed + i, jpeg_quality=92) for i in range(3)]
    )
    families["page"] = synthetic(
        [make_text_page(f"page-{i}.jpg", 2480, 3508, 40, 44, seed + 10 + i) for i in range(2)]
    )
    families["scan35"] = synthetic([make_text_page("scan-35mp.jpg", 7000, 5000, 60, 70, seed + 20)])
    # Expected lines None: /run shows the first page only, so recall is not comparable; lines > 0 is checked.
    name, data, _lines = text_pdf("document-20p.pdf", PDF_PAGES, seed + 30)
    families["pdf20"] = [(name, data, None)]
    receipts = sorted(SROIE_IMAGES.glob("*.jpg")) if SROIE_IMAGES.is_dir() else []
    if receipts:
        families["sroie"] = [(path.name, path.read_bytes(), None) for path in receipts]
    return families


def schedule(request_count: int, scan_every: int, has_sroie: bool, pdf_every: int = 0) -> list[str]:
    """The input family of each request: a 20-page PDF every `pdf_every` (from request pdf_every // 2),
    a 35 MP scan every `scan_every`, else a fixed rotation."""
    # Light inputs dominate, as on a public demo: per 10 requests 1 scan, 1 receipt, 2 pages, 6 screenshots.
    rotation = ["sroie", "screenshot", "page", "screenshot", "screenshot"] if has_sroie else ["screenshot", "page", "screenshot"]
    kinds = []
    for index in range(1, request_count + 1):
        if pdf_every > 0 and index % pdf_every == max(1, pdf_every // 2) % pdf_every:
            kinds.append("pdf20")
        elif scan_every > 0 and index % scan_every == 0:
            kinds.append("scan35")
        else:
            kinds.append(rotation[index % len(rotation)])
    return kinds


def fit_slope_mb_per_100(records: list[RequestRecord]) -> float:
    second_half = records[len(records) // 2 :]
    if len(second_half) < 2:
        return float("nan")
    x = np.array([record.index for record in second_half], dtype=np.float64)
    y = np.array([record.rss_mb for record in second_half], dtype=np.float64)
    slope_per_request = np.polyfit(x, y, 1)[0]
    return float(slope_per_request * 100.0)


def at(records: list[RequestRecord], index: int) -> RequestRecord | None:
    return records[index - 1] if 0 < index <= len(records) else None


def window_rss(records: list[RequestRecord]) -> dict[str, float]:
    values = [record.rss_mb for record in records]
    return {"mean": round(statistics.mean(values), 1), "median": round(statistics.median(values), 1), "max": round(max(values), 1)}


def summarize(
    records: list[RequestRecord], startup_rss_mb: float, startup_threads: int, startup_file_rss_mb: float
) -> dict[str, object]:
    checkpoints = sorted({i for i in (1, 50, 100, 150, 300) if i <= len(records)} | {len(records)})
    rss_at = {index: round(record.rss_mb, 1) for index in checkpoints if (record := at(records, index))}
    file_rss_at = {index: round(record.file_rss_mb, 1) for index in checkpoints if (record := at(records, index))}
    temp_at = {
        index: {"bytes": record.temp_bytes, "files": record.temp_files}
        for index in checkpoints
        if (record := at(records, index))
    }
    threads_at = {index: record.threads for index in checkpoints if (record := at(records, index))}
    second_half = records[len(records) // 2 :]
    latency: dict[str, dict[str, float]] = {}
    for kind in sorted({record.kind for record in records}):
        seconds = [record.seconds for record in records if record.kind == kind and record.ok]
        if seconds:
            latency[kind] = {
                "count": len(seconds),
                "median_s": round(statistics.median(seconds), 2),
                "max_s": round(max(seconds), 2),
            }
    recalls = [record.recall for record in records if record.recall is not None]
    return {
        "requests": len(records),
        "failed_requests": sum(not record.ok for record in records),
        "startup_rss_mb": round(startup_rss_mb, 1),
        "startup_file_rss_mb": round(startup_file_rss_mb, 1),
        "rss_mb_at": rss_at,
        "rss_max_mb": round(max(record.rss_mb for record in records), 1),
        # How much of the RSS is file-backed (shared libraries' pages, reclaimable and shared): the rest is heap.
        "file_rss_mb_at": file_rss_at,
        "rss_slope_second_half_mb_per_100_requests": round(fit_slope_mb_per_100(records), 2),
        # The trend: the last 50 requests against the first 50 (same mix of inputs in each).
        "rss_first_50": window_rss(records[:50]),
        "rss_last_50": window_rss(records[-50:]),
        "temp_dir_at": temp_at,
        "temp_dir_max_bytes": max(record.temp_bytes for record in records),
        "temp_dir_max_files": max(record.temp_files for record in records),
        "startup_threads": startup_threads,
        "threads_at": threads_at,
        "threads_second_half_min_max": [min(r.threads for r in second_half), max(r.threads for r in second_half)],
        "latency_by_kind": latency,
        "min_word_recall_synthetic": round(min(recalls), 3) if recalls else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--scan-every", type=int, default=10, help="every Nth request is a 35 MP scan (0: none)")
    parser.add_argument("--pdf-every", type=int, default=50, help="every Nth request is a 20-page PDF (0: none)")
    parser.add_argument("--session-every", type=int, default=25, help="new client session every N requests")
    parser.add_argument("--timeout", type=float, default=600.0, help="client timeout per request, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write per-request records and the summary as JSON here")
    parser.add_argument("--app-args", default="", help="extra flags for app.py, e.g. '--preset low'")
    parser.add_argument("--endpoints", default="run,ocr", help="endpoints used in turn: run (the UI's), ocr (the API)")
    args = parser.parse_args(argv)
    stop_servers_on_sigterm()
    endpoints = [name.strip().lstrip("/") for name in args.endpoints.split(",") if name.strip()]
    if not endpoints or set(endpoints) - {"run", "ocr"}:
        parser.error("--endpoints takes run and/or ocr")

    from gradio_client import Client, handle_file

    with tempfile.TemporaryDirectory(prefix="ocr-soak-") as work:
        work_dir = Path(work)
        print("building inputs ...", flush=True)
        families = build_inputs(work_dir, args.seed)
        kinds = schedule(args.requests, args.scan_every, "sroie" in families, args.pdf_every)
        print(f"inputs: { {kind: len(items) for kind, items in families.items()} }", flush=True)
        upload_dir = work_dir / "uploads"
        upload_dir.mkdir()

        server = start_app(work_dir / "server", extra_args=args.app_args.split())
        records: list[RequestRecord] = []
        try:
            startup_rss_mb = server.rss_bytes() / MB
            startup_threads = server.thread_count()
            startup_file_rss_mb = server.file_rss_bytes() / MB
            print(
                f"server pid {server.pid} at {server.url}: RSS {startup_rss_mb:.0f} MB "
                f"({startup_file_rss_mb:.0f} MB of it mapped files), {startup_threads} threads"
            )
            client = Client(server.url, verbose=False, download_files=False, analytics_enabled=False)
            counters: dict[str, int] = {}
            for index, kind in enumerate(kinds, start=1):
                if index > 1 and args.session_every > 0 and (index - 1) % args.session_every == 0:
                    client.reset_session()
                items = families[kind]
                position = counters.get(kind, 0)
                counters[kind] = position + 1
                name, data, expected = items[position % len(items)]
                upload = upload_dir / f"{index:04d}-{name}"
                upload.write_bytes(unique_upload(data, f"soak request {index}"))
                started = time.perf_counter()
                error: str | None = None
                result: dict[str, object] = {}
                # Endpoints in turn; a PDF by its own count, so that PDFs (every 50th, all odd) reach both.
                endpoint = endpoints[(position if kind == "pdf20" else index - 1) % len(endpoints)]
                try:
                    result = call_endpoint(client, endpoint, handle_file(str(upload)))
                except Exception as exc:  # noqa: BLE001 - a soak records every failure and goes on
                    error = f"{type(exc).__name__}: {exc}"[:300]
                seconds = time.perf_counter() - started
                upload.unlink()
                lines = len(result.get("lines", [])) if isinstance(result, dict) else 0
                recall = word_recall(expected, result) if expected is not None and error is None else None
                ok = error is None and lines > 0
                temp_bytes, temp_files = server.temp_usage()
                record = RequestRecord(
                    index=index,
                    kind=kind,
                    name=name,
                    endpoint=endpoint,
                    seconds=round(seconds, 3),
                    ok=ok,
                    recall=None if recall is None else round(recall, 3),
                    lines=lines,
                    error=error,
                    rss_mb=round(server.rss_bytes() / MB, 2),
                    file_rss_mb=round(server.file_rss_bytes() / MB, 2),
                    threads=server.thread_count(),
                    temp_bytes=temp_bytes,
                    temp_files=temp_files,
                )
                records.append(record)
                print(
                    f"[{index:4d}/{len(kinds)}] {kind:10s} {endpoint:4s} {seconds:6.2f} s  lines {lines:4d}  "
                    f"recall {'-' if recall is None else f'{recall:.2f}'}  RSS {record.rss_mb:7.1f} MB "
                    f"(files {record.file_rss_mb:5.1f})  "
                    f"threads {record.threads:3d}  temp {temp_bytes / MB:6.1f} MB/{temp_files} files"
                    + (f"  ERROR {error}" if error else ""),
                    flush=True,
                )
            client.close()
        finally:
            server.stop()
        if not records:
            print("no requests were made")
            return 1
        summary = summarize(records, startup_rss_mb, startup_threads, startup_file_rss_mb)
        print(json.dumps(summary, indent=2))
        if args.out:
            args.out.write_text(json.dumps({"summary": summary, "records": [asdict(r) for r in records]}, indent=1))
            print(f"records written to {args.out}")
        return 0 if summary["failed_requests"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
