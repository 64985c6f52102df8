"""Concurrency test: 8 clients at once against the real server; bounded queue, clean rejections, no hangs.

Two rounds, each on a fresh `python app.py` (concurrency 1) on a loopback port:

1. **all accepted** (`--queue-size 16`): 8 clients submit one page each at the same moment. Every job must
   finish before the client timeout with ITS OWN text (each page carries a unique marker number, so a
   result delivered to the wrong client is caught).
2. **overflow** (`--queue-size Q`, default 5): client 0 submits a slow job (a synthetic 35 MP scan); once
   the server reports it as processing, Q+k more clients (default k=2, so 8 clients in all) submit at once.
   The queue holds Q waiting jobs, so exactly k submissions must be refused with Gradio's "queue is full"
   and the Q+1 accepted ones must all return their own correct result. A normal request afterwards must
   succeed.

    .venv/bin/python bench/concurrency.py
    .venv/bin/python bench/concurrency.py --queue-size 3 --extra 4 --timeout 900

Exit status 0 only when every check holds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_server import found_words, start_app, stop_servers_on_sigterm  # noqa: E402
from sample_images import TextImage, make_text_page, unique_jpeg  # noqa: E402


@dataclass
class JobOutcome:
    client: int
    marker: str
    status: str  # "ok", "queue_full", "timeout", "wrong_result", "error"
    seconds: float
    detail: str = ""


def marker_for(client: int) -> str:
    return str(31000 + 137 * client)


def job_page(client: int, slow: bool, seed: int) -> TextImage:
    first_line = f"CLIENT MARKER {marker_for(client)} ALPHA"
    if slow:
        return make_text_page(f"slow-{client}.jpg", 7000, 5000, 60, 70, seed, first_line=first_line)
    return make_text_page(f"page-{client}.jpg", 1600, 1200, 10, 40, seed, first_line=first_line)


def classify(client: int, result: object, all_markers: set[str]) -> tuple[str, str]:
    if not isinstance(result, dict):
        return "wrong_result", f"result is {type(result).__name__}, not a dict"
    words = found_words(result)
    own = marker_for(client)
    foreign = sorted((all_markers - {own}) & words)
    if own not in words:
        return "wrong_result", f"own marker {own} not found in {len(words)} words"
    if foreign:
        return "wrong_result", f"markers of other clients found: {foreign}"
    return "ok", ""


def is_queue_full(error: BaseException) -> bool:
    return type(error).__name__ == "QueueError" or "queue is full" in str(error).lower()


def run_job(
    client: object,
    client_index: int,
    path: Path,
    all_markers: set[str],
    timeout_s: float,
    start_barrier: threading.Barrier | None,
    outcomes: list[JobOutcome],
    lock: threading.Lock,
) -> None:
    from gradio_client import handle_file

    if start_barrier is not None:
        start_barrier.wait()
    started = time.perf_counter()
    try:
        job = client.submit(handle_file(str(path)), api_name="/ocr")  # type: ignore[attr-defined]
        result = job.result(timeout=timeout_s)
        status, detail = classify(client_index, result, all_markers)
    except TimeoutError as error:
        status, detail = "timeout", str(error)[:200]
    except Exception as error:  # noqa: BLE001 - every client failure is classified, none may escape
        status = "queue_full" if is_queue_full(error) else "error"
        detail = f"{type(error).__name__}: {error}"[:300]
    outcome = JobOutcome(client_index, marker_for(client_index), status, round(time.perf_counter() - started, 2), detail)
    with lock:
        outcomes.append(outcome)


def wait_until_processing(job: object, timeout_s: float) -> bool:
    from gradio_client.utils import Status

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = job.status().code  # type: ignore[attr-defined]
        if code == Status.PROCESSING or code == Status.PROGRESS:
            return True
        if job.done():  # type: ignore[attr-defined]
            return False
        time.sleep(0.05)
    return False


def make_clients(url: str, count: int) -> list[object]:
    from gradio_client import Client

    return [Client(url, verbose=False, download_files=False, analytics_enabled=False) for _ in range(count)]


def round_all_accepted(work_dir: Path, clients_count: int, timeout_s: float, seed: int) -> dict[str, object]:
    pages = {i: job_page(i, slow=False, seed=seed + i) for i in range(clients_count)}
    markers = {marker_for(i) for i in pages}
    paths = {}
    for i, page in pages.items():
        paths[i] = work_dir / f"round1-{page.name}"
        paths[i].write_bytes(unique_jpeg(page.data, f"round1 client {i}"))
    with start_app(work_dir / "server-round1", ["--queue-size", "16", "--concurrency", "1"]) as server:
        threads_before = server.thread_count()
        clients = make_clients(server.url, clients_count)
        barrier = threading.Barrier(clients_count)
        outcomes: list[JobOutcome] = []
        lock = threading.Lock()
        workers = [
            threading.Thread(target=run_job, args=(clients[i], i, paths[i], markers, timeout_s, barrier, outcomes, lock))
            for i in range(clients_count)
        ]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout_s + 60)
        wall_s = time.perf_counter() - started
        hung_workers = sum(worker.is_alive() for worker in workers)
        for client in clients:
            client.close()  # type: ignore[attr-defined]
        threads_after = server.thread_count()
    counts = {status: sum(o.status == status for o in outcomes) for status in ("ok", "queue_full", "timeout", "wrong_result", "error")}
    passed = counts["ok"] == clients_count and hung_workers == 0
    return {
        "round": "all accepted",
        "clients": clients_count,
        "queue_size": 16,
        "counts": counts,
        "hung_workers": hung_workers,
        "wall_s": round(wall_s, 1),
        "server_threads_before_after": [threads_before, threads_after],
        "outcomes": [asdict(o) for o in sorted(outcomes, key=lambda o: o.client)],
        "passed": passed,
    }


def round_overflow(work_dir: Path, queue_size: int, extra: int, timeout_s: float, seed: int) -> dict[str, object]:
    clients_count = queue_size + 1 + extra
    pages = {0: job_page(0, slow=True, seed=seed)}
    pages.update({i: job_page(i, slow=False, seed=seed + i) for i in range(1, clients_count)})
    markers = {marker_for(i) for i in pages}
    paths = {}
    for i, page in pages.items():
        paths[i] = work_dir / f"round2-{page.name}"
        paths[i].write_bytes(unique_jpeg(page.data, f"round2 client {i}"))
    with start_app(work_dir / "server-round2", ["--queue-size", str(queue_size), "--concurrency", "1"]) as server:
        threads_before = server.thread_count()
        clients = make_clients(server.url, clients_count)
        from gradio_client import handle_file

        outcomes: list[JobOutcome] = []
        lock = threading.Lock()
        started = time.perf_counter()
        slow_job = clients[0].submit(handle_file(str(paths[0])), api_name="/ocr")  # type: ignore[attr-defined]
        slow_started_processing = wait_until_processing(slow_job, timeout_s=120)
        barrier = threading.Barrier(clients_count - 1)
        workers = [
            threading.Thread(target=run_job, args=(clients[i], i, paths[i], markers, timeout_s, barrier, outcomes, lock))
            for i in range(1, clients_count)
        ]
        for worker in workers:
            worker.start()
        slow_started = time.perf_counter()
        try:
            slow_result = slow_job.result(timeout=timeout_s)
            slow_status, slow_detail = classify(0, slow_result, markers)
        except TimeoutError as error:
            slow_status, slow_detail = "timeout", str(error)[:200]
        except Exception as error:  # noqa: BLE001
            slow_status = "queue_full" if is_queue_full(error) else "error"
            slow_detail = f"{type(error).__name__}: {error}"[:300]
        outcomes.append(JobOutcome(0, marker_for(0), slow_status, round(time.perf_counter() - slow_started, 2), slow_detail))
        for worker in workers:
            worker.join(timeout_s + 60)
        wall_s = time.perf_counter() - started
        hung_workers = sum(worker.is_alive() for worker in workers)

        # The server must keep serving after the overflow.
        follow_up = job_page(99, slow=False, seed=seed + 99)
        follow_path = work_dir / "round2-follow-up.jpg"
        follow_path.write_bytes(unique_jpeg(follow_up.data, "round2 follow-up"))
        try:
            follow_result = clients[1].predict(handle_file(str(follow_path)), api_name="/ocr")  # type: ignore[attr-defined]
            follow_status, _ = classify(99, follow_result, markers | {marker_for(99)})
        except Exception as error:  # noqa: BLE001
            follow_status = f"{type(error).__name__}: {error}"[:200]
        for client in clients:
            client.close()  # type: ignore[attr-defined]
        threads_after = server.thread_count()
    counts = {status: sum(o.status == status for o in outcomes) for status in ("ok", "queue_full", "timeout", "wrong_result", "error")}
    passed = (
        slow_started_processing
        and counts["queue_full"] == extra
        and counts["ok"] == queue_size + 1
        and hung_workers == 0
        and follow_status == "ok"
    )
    return {
        "round": "overflow",
        "clients": clients_count,
        "queue_size": queue_size,
        "expected_rejections": extra,
        "slow_job_was_processing_before_the_burst": slow_started_processing,
        "counts": counts,
        "hung_workers": hung_workers,
        "follow_up_request": follow_status,
        "wall_s": round(wall_s, 1),
        "server_threads_before_after": [threads_before, threads_after],
        "outcomes": [asdict(o) for o in sorted(outcomes, key=lambda o: o.client)],
        "passed": passed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="clients in the all-accepted round")
    parser.add_argument("--queue-size", type=int, default=5, help="Q in the overflow round")
    parser.add_argument("--extra", type=int, default=2, help="k: submissions beyond Q+1 in the overflow round")
    parser.add_argument("--timeout", type=float, default=600.0, help="client timeout per job, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-round1", action="store_true")
    parser.add_argument("--out", type=Path, help="write the report as JSON here")
    args = parser.parse_args(argv)
    stop_servers_on_sigterm()

    reports = []
    with tempfile.TemporaryDirectory(prefix="ocr-concurrency-") as work:
        work_dir = Path(work)
        if not args.skip_round1:
            reports.append(round_all_accepted(work_dir, args.clients, args.timeout, args.seed))
            print(json.dumps({k: v for k, v in reports[-1].items() if k != "outcomes"}, indent=1), flush=True)
        reports.append(round_overflow(work_dir, args.queue_size, args.extra, args.timeout, args.seed + 50))
        print(json.dumps({k: v for k, v in reports[-1].items() if k != "outcomes"}, indent=1), flush=True)
    for report in reports:
        for outcome in report["outcomes"]:  # type: ignore[union-attr]
            print(f"  {report['round']:13s} client {outcome['client']:2d}: {outcome['status']:12s} {outcome['seconds']:7.2f} s {outcome['detail']}")
    if args.out:
        args.out.write_text(json.dumps(reports, indent=1))
    passed = all(report["passed"] for report in reports)
    print("PASSED" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
