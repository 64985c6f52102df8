"""How many bytes of image does the browser receive for a 35 MP upload?

Starts `python app.py` on a free loopback port, makes a synthetic 35 MP document scan,
uploads it with a real browser (Debian chromium + Playwright), runs OCR, clicks the history
item, and lists every image response the page received with its size in bytes.

    python scripts/measure_payload.py            # prints a table; exit code 0
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from bench.app_server import start_app  # noqa: E402  (the launcher the tests and benchmarks use)

WIDTH, HEIGHT = 7216, 4850  # 35.0 MP


def synthetic_scan(path: Path) -> None:
    page = Image.new("L", (WIDTH, HEIGHT), 250)
    draw = ImageDraw.Draw(page)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 120)
    except OSError:
        font = ImageFont.load_default(size=120)
    for row in range(14):
        draw.text((400, 300 + row * 300), f"Line {row + 1}: the quick brown fox jumps over the lazy dog", font=font, fill=20)
    page.save(path, quality=90)


def main() -> int:
    from playwright.sync_api import expect, sync_playwright

    work = Path(tempfile.mkdtemp(prefix="payload-"))
    scan = work / "scan_35mp.jpg"
    synthetic_scan(scan)
    server = start_app(work, startup_timeout_s=240, temp_dir=work / "gradio")
    url = server.url
    try:
        received: list[tuple[str, str, int]] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})

            def record(response) -> None:
                kind = response.headers.get("content-type") or ""
                if kind.startswith("image/"):
                    try:
                        received.append((response.url.split("/")[-1], kind, len(response.body())))
                    except Exception as error:  # a response the browser dropped (e.g. navigated away)
                        received.append((response.url.split("/")[-1], kind, -1))
                        print(f"could not read {response.url}: {error}", file=sys.stderr)

            page.on("response", record)
            page.goto(url)
            page.locator("#image-input input[type=file]").set_input_files(str(scan))
            expect(page.locator("#image-input img")).to_be_visible(timeout=120_000)
            started = time.monotonic()
            page.locator("#run-button").click()
            expect(page.locator("#summary")).to_contain_text(scan.name, timeout=600_000)
            seconds = time.monotonic() - started
            page.locator("#history button.thumbnail-item").first.click()
            page.wait_for_timeout(2000)
            summary = page.locator("#summary").inner_text()
            natural = page.locator("#explorer img.ocrx-img").evaluate("img => [img.naturalWidth, img.naturalHeight]")
            browser.close()
        print(f"upload: {scan.name} {WIDTH}x{HEIGHT} ({WIDTH * HEIGHT / 1e6:.1f} MP), {scan.stat().st_size} bytes")
        print(f"run to result in the page: {seconds:.1f} s; result image shown at {natural[0]}x{natural[1]}")
        print(f"summary: {summary.splitlines()[0]}")
        examples = {path.name for path in (REPO_ROOT / "assets").iterdir()}

        def role(name: str) -> str:
            if name == scan.name:
                return "input preview (the browser re-fetches the user's own upload)"
            if name in examples:
                return "example thumbnail (page load)"
            return "result (made by the app)"

        print(f"{'bytes':>10}  {'type':<11} {'file':<24} role")
        for name, kind, size in sorted(received, key=lambda item: -item[2]):
            print(f"{size:>10}  {kind:<11} {name:<24} {role(name)}")
        results = [size for name, _, size in received if role(name).startswith("result")]
        print(f"largest result image the page received: {max(results)} bytes")
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
