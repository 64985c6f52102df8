"""A real browser (Chromium via Playwright) against the real app and model: the page as a user meets it.

Chromium is looked for in CHROMIUM_PATH, /usr/bin/chromium and Playwright's own browsers. Without one
these tests are skipped with a one-line reason, unless OCR_REQUIRE_BROWSER=1 (set by .ci/run), which
makes a missing browser a failure. OCR_SCREENSHOT_DIR keeps the desktop and mobile screenshots.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import ASSETS_DIR, BROWSER_MAX_FILE_SIZE, AppServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # a real browser against the real app and model

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN_TIMEOUT_MS = 180_000  # one real OCR run on a loaded 2-core CI machine
UPLOAD_LIMIT = BROWSER_MAX_FILE_SIZE  # "3mb": small, so the oversized-upload test needs only a 4 MB file
RECEIPT_WORDS = ["CORNER CAFE", "12 Harbour Street", "Cappuccino", "Orange juice"]


def find_chromium() -> str | None:
    """CHROMIUM_PATH, else Debian's /usr/bin/chromium, else the browser `playwright install chromium` fetched."""
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    if sync_playwright is None:
        return None
    try:
        with sync_playwright() as playwright:
            bundled = playwright.chromium.executable_path
    except Exception:  # noqa: BLE001 - no bundled browser registered
        return None
    return bundled if bundled and os.access(bundled, os.X_OK) else None


def browser_unavailable(reason: str) -> None:
    if os.environ.get("OCR_REQUIRE_BROWSER") == "1":
        pytest.fail(f"OCR_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        browser_unavailable("Playwright is not installed (pip install -r requirements-dev.txt)")
    executable = find_chromium()
    if executable is None:
        browser_unavailable(
            "no Chromium found (set CHROMIUM_PATH, apt-get install chromium, or playwright install chromium)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(browser, browser_app_server: AppServer) -> AppServer:  # `browser` first: no server is started when the tests skip
    return browser_app_server  # tests/conftest.py: one app for every module that uses this fixture


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("OCR_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def upload_and_run(page, path) -> None:
    page.locator("#image-input input[type=file]").set_input_files(str(path))
    expect(page.locator("#image-input img")).to_be_visible(timeout=30_000)
    page.locator("#run-button").click()
    expect(page.locator("#summary")).to_contain_text(path.name, timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#explorer img.ocrx-img")).to_be_visible(timeout=30_000)


def wait_for_uploads(page, selector: str, names: list[str]) -> None:
    """Wait until the file input `selector` lists every file of `names` as uploaded: Gradio shows a name while
    the upload is still running, and its size only once the file is on the server (a Run pressed before that
    reads no file)."""
    page.wait_for_function(
        """([selector, names]) => {
            const text = (document.querySelector(selector) || {}).innerText || '';
            const sizes = text.match(/\\d+(\\.\\d+)?\\s?[KMG]?B\\b/g) || [];
            return names.every((name) => text.includes(name)) && sizes.length >= names.length;
        }""",
        arg=[selector, names],
        timeout=30_000,
    )


def read_pdf(page, path: Path, summary: str) -> None:
    """Choose the PDF `path` in the single tab and Run it; wait until the summary says `summary`."""
    page.locator("#pdf-input input[type=file]").set_input_files(str(path))
    wait_for_uploads(page, "#pdf-input", [path.stem])
    page.locator("#run-button").click()
    expect(page.locator("#summary")).to_contain_text(summary, timeout=RUN_TIMEOUT_MS)


def run_batch(page, paths: list[Path], summary: str) -> None:
    """Add `paths` in the Batch tab and run the batch; wait until the summary says `summary`."""
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-input input[type=file]").set_input_files([str(path) for path in paths])
    wait_for_uploads(page, "#batch-input", [path.stem for path in paths])
    page.locator("#batch-button").click()
    expect(page.locator("#summary")).to_contain_text(summary, timeout=RUN_TIMEOUT_MS)


def colours(page, selector: str) -> tuple[list[float], list[float]]:
    """(text colour, effective background colour) of the first element matching `selector`, as RGB."""
    return page.evaluate(
        """(selector) => {
            const node = document.querySelector(selector);
            const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
            const fg = rgb(getComputedStyle(node).color);
            let at = node, bg = null;
            while (at) {
                const c = rgb(getComputedStyle(at).backgroundColor);
                if (c.length >= 3 && (c.length === 3 || c[3] > 0.9)) { bg = c.slice(0, 3); break; }
                at = at.parentElement;
            }
            return [fg.slice(0, 3), bg || [255, 255, 255]];
        }""",
        selector,
    )


def contrast(foreground, background) -> float:
    def luminance(rgb) -> float:
        channels = []
        for value in rgb:
            c = value / 255
            channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def shown_confidences(page) -> list[float]:
    return [float(text) for text in page.locator("#lines-table td.ocrt-conf").all_inner_texts()]


def visible_error_badges(page) -> int:
    return page.evaluate(
        """() => ['#summary', '#explorer', '#lines-table', '#history', '#full-text'].flatMap((id) =>
            [...document.querySelectorAll(id + ' .error')]).filter((node) => node.offsetParent !== null
            && /error/i.test(node.textContent)).length"""
    )


def test_desktop_explore_filter_history_and_errors(browser, server, shots):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    # the first page after the server starts: the browser fetches and compiles every script (slow on a loaded machine)
    expect(page.locator("h1")).to_contain_text("OCR demo", timeout=60_000)

    # (10) contrast of the primary button, the active tab and the footer: WCAG AA 4.5:1
    for selector in ("#run-button", 'button[role="tab"][aria-selected="true"]', "footer button.show-api"):
        expect(page.locator(selector).first).to_be_visible()
        ratio = contrast(*colours(page, selector))
        assert ratio >= 4.5, f"{selector}: contrast {ratio:.2f}:1"
    # (7) examples have captions that are their accessible names, and they only fill the visible tab
    for name in ("Receipt", "Document page", "Sign (perspective)"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_visible()
    page.get_by_role("tab", name="Batch").click()
    expect(page.locator("#examples")).to_be_hidden()
    page.get_by_role("tab", name="Single image").click()

    page.locator("#image-input input[type=file]").set_input_files(str(ASSETS_DIR / "receipt.jpg"))
    expect(page.locator("#image-input img")).to_be_visible(timeout=30_000)
    page.locator("#run-button").click()
    # (11) progress shows on the result area only, never over the summary's placeholder text
    during_run = page.wait_for_function(
        """() => { const tracker = document.querySelector('#explorer [data-testid=status-tracker]');
                   if (!tracker || tracker.classList.contains('hide')) return null;
                   const empty = document.querySelector('#explorer .ocrx-empty');
                   return {placeholder: !!empty && empty.offsetParent !== null
                                        && getComputedStyle(empty).visibility !== 'hidden'}; }""",
        timeout=10_000,
    ).json_value()
    assert during_run == {"placeholder": False}  # the placeholder steps aside while the progress shows
    expect(page.locator("#summary [data-testid=status-tracker]")).to_be_hidden()
    expect(page.locator("#summary")).to_contain_text("receipt.jpg", timeout=RUN_TIMEOUT_MS)

    image = page.locator("#explorer img.ocrx-img")
    expect(image).to_be_visible(timeout=30_000)
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [620, 1060]  # shown 1:1 data
    assert "receipt.jpg" in image.get_attribute("alt")  # (7) the result image has a text alternative
    table = page.locator("#lines-table")
    for expected in RECEIPT_WORDS:
        expect(table).to_contain_text(expected)
    rows = page.locator("#lines-table tr.ocrt-row")
    count = rows.count()
    assert count >= 10
    texts = page.locator("#lines-table td.ocrt-text").all_inner_texts()

    # hover a box: its text and confidence
    page.locator('#explorer g.ocrx-line[data-n="2"] polygon.ocrx-box').hover()
    tip = page.locator("#explorer .ocrx-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(texts[1])
    expect(tip).to_contain_text(re.compile(r"confidence [01]\.\d{3}"))
    # click a box: its row is selected (and scrolled to); click a row: its box is selected
    page.locator('#explorer g.ocrx-line[data-n="3"] polygon.ocrx-box').click()
    expect(page.locator('#lines-table tr[data-n="3"]')).to_have_attribute("aria-selected", "true")
    page.locator('#lines-table tr[data-n="5"]').click()
    expect(page.locator("#explorer g.ocrx-line.sel")).to_have_attribute("data-n", "5")
    # (10) arrow keys move the selection AND the highlight
    page.keyboard.press("ArrowDown")
    expect(page.locator('#lines-table tr[data-n="6"]')).to_have_attribute("aria-selected", "true")
    expect(page.locator("#explorer g.ocrx-line.sel")).to_have_attribute("data-n", "6")

    # zoom with the button and the wheel: the boxes stay exactly on the image's pixels
    def box_offset_error() -> float:
        return page.evaluate(
            """() => {
                const img = document.querySelector('#explorer img.ocrx-img').getBoundingClientRect();
                const scale = img.width / document.querySelector('#explorer img.ocrx-img').naturalWidth;
                let worst = 0;
                for (const g of document.querySelectorAll('#explorer g.ocrx-line')) {
                    const points = g.querySelector('polygon.ocrx-box').points;
                    const xs = [...points].map(p => p.x), ys = [...points].map(p => p.y);
                    const r = g.querySelector('polygon.ocrx-box').getBoundingClientRect();
                    worst = Math.max(worst, Math.abs(r.left - (img.left + Math.min(...xs) * scale)),
                                     Math.abs(r.top - (img.top + Math.min(...ys) * scale)),
                                     Math.abs(r.width - (Math.max(...xs) - Math.min(...xs)) * scale));
                }
                return worst;
            }"""
        )

    zoom_state = page.locator("#explorer [data-scale]").first

    def scale() -> float:
        return float(zoom_state.get_attribute("data-scale"))

    fitted = scale()
    assert box_offset_error() < 1.0
    page.get_by_role("button", name="Zoom in").click()
    assert scale() == pytest.approx(fitted * 1.5, rel=1e-3)
    assert box_offset_error() < 1.0
    view = page.locator("#explorer .ocrx-view").bounding_box()
    page.mouse.move(view["x"] + view["width"] / 2, view["y"] + view["height"] / 3)
    page.mouse.wheel(0, -300)
    expect(zoom_state).not_to_have_attribute("data-scale", f"{fitted * 1.5:.4f}")
    assert scale() > fitted * 1.5
    assert box_offset_error() < 1.0
    page.mouse.down()  # drag to pan
    page.mouse.move(view["x"] + view["width"] / 2 - 120, view["y"] + view["height"] / 3 - 80, steps=5)
    page.mouse.up()
    assert box_offset_error() < 1.0
    page.get_by_role("button", name="Reset: fit the whole image").click()
    assert scale() == pytest.approx(fitted, rel=1e-3)
    boxes = page.get_by_role("button", name="Show or hide the boxes (see the original image)")
    boxes.click()  # the original image without boxes, then back
    expect(page.locator("#explorer svg.ocrx-svg")).to_be_hidden()
    boxes.click()
    expect(page.locator("#explorer svg.ocrx-svg")).to_be_visible()

    # the confidence filter re-draws the same result without running the model again; (11) a line shown
    # as 1.000 is never hidden at 1.00
    before = shown_confidences(page)
    page.get_by_role("button", name="Zoom in").click()
    zoomed = scale()
    threshold = page.locator("#confidence-filter input[type=number]")
    threshold.fill("0.99")
    threshold.press("Enter")
    expect(page.locator("#summary")).to_contain_text("shown (confidence ≥ 0.99)", timeout=30_000)
    assert scale() == pytest.approx(zoomed, rel=1e-3)  # a re-draw of the same image keeps the zoom
    page.get_by_role("button", name="Reset: fit the whole image").click()
    values = shown_confidences(page)
    assert values and all(value >= 0.99 for value in values)
    assert len(values) == sum(value >= 0.99 for value in before)
    threshold.fill("1")
    threshold.press("Enter")
    expect(page.locator("#summary")).to_contain_text("confidence ≥ 1.00", timeout=30_000)
    page.wait_for_timeout(500)
    assert len(shown_confidences(page)) == sum(value >= 1.0 for value in before)
    threshold.fill("0")
    threshold.press("Enter")
    expect(page.locator("#summary")).not_to_contain_text("shown (confidence", timeout=30_000)
    page.locator("#show-text input[type=checkbox]").check()
    expect(page.locator("#explorer text.ocrx-text")).to_have_count(count, timeout=30_000)
    page.locator("#show-text input[type=checkbox]").uncheck()

    page.get_by_role("button", name="Sign (perspective)", exact=True).click()
    # The example loads asynchronously: Run before the input shows it would re-run the receipt.
    expect(page.locator("#image-input img")).to_have_attribute("src", re.compile("street_sign"), timeout=60_000)
    page.locator("#run-button").click()
    expect(page.locator("#summary")).to_contain_text("street_sign.jpg", timeout=RUN_TIMEOUT_MS)
    expect(table).to_contain_text("MAIN STREET")
    thumbnails = page.locator("#history button.thumbnail-item")
    expect(thumbnails).to_have_count(2)
    # (11) captions are not cut, and there is no "Download All" of thumbnails
    for caption in page.locator("#history .caption-label").all():
        assert caption.evaluate("node => node.scrollWidth <= node.clientWidth + 1")
        assert re.fullmatch(r"\S+\.jpg · \d+ lines?", caption.inner_text().strip())
    expect(page.locator("#history").get_by_role("button", name=re.compile("download", re.I))).to_have_count(0)

    thumbnails.nth(1).click()  # the older entry: the receipt
    expect(page.locator("#summary")).to_contain_text("receipt.jpg", timeout=30_000)
    expect(table).to_contain_text("CORNER CAFE")
    # (3) the input no longer holds the sign: Run cannot silently re-run another image than the one shown
    expect(page.locator("#image-input img")).to_have_count(0)
    expect(page.locator("#summary")).to_contain_text("upload the image again")

    # (2) Run with no image: a message at the input; the result, table and history stay usable
    page.locator("#run-button").click()
    expect(page.get_by_text("Please upload, paste or photograph an image first").first).to_be_visible(timeout=30_000)
    page.wait_for_timeout(1000)
    assert visible_error_badges(page) == 0
    expect(page.locator("#summary")).to_contain_text("receipt.jpg")
    expect(image).to_be_visible()
    expect(table).to_contain_text("CORNER CAFE")
    expect(thumbnails).to_have_count(2)

    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "desktop.png"))
    page.close()


def test_batch_download_stays_the_batch_json_when_the_filter_moves(browser, server, tmp_path):
    """(1) Moving the filter (or "Write text on image") after a batch replaced the batch JSON by one file's."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    run_batch(page, [ASSETS_DIR / "receipt.jpg", ASSETS_DIR / "street_sign.jpg"], "Batch: 2 of 2")

    def downloaded() -> tuple[str, list]:
        with page.expect_download(timeout=30_000) as info:
            page.locator("#json-download").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        return info.value.suggested_filename, json.loads(target.read_text())

    name, records = downloaded()
    assert name == "batch_ocr.json" and [record["file"] for record in records] == ["receipt.jpg", "street_sign.jpg"]
    threshold = page.locator("#confidence-filter input[type=number]")
    threshold.fill("0.95")
    threshold.press("Enter")
    expect(page.locator("#summary")).to_contain_text("confidence ≥ 0.95", timeout=30_000)
    expect(page.locator("#summary")).to_contain_text("Batch: 2 of 2")
    name, filtered = downloaded()
    assert name == "batch_ocr.json" and len(filtered) == 2
    for record in filtered:
        assert record["min_confidence"] == 0.95
        assert all(line["confidence"] >= 0.95 for line in record["lines"])
    page.locator("#show-text input[type=checkbox]").check()
    expect(page.locator("#explorer text.ocrx-text").first).to_be_visible(timeout=30_000)
    expect(page.locator("#summary")).to_contain_text("Batch: 2 of 2")
    assert downloaded()[0] == "batch_ocr.json"
    page.close()


def test_oversized_upload_is_reported_even_with_an_error_toast_open(browser, server, tmp_path):
    """(4) With an error toast open, a too-large upload vanished without any message."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"this is a text file, not an image\n" * 20)
    page.locator("#image-input input[type=file]").set_input_files(str(not_an_image))
    expect(page.locator("#image-input img")).to_have_count(1, timeout=30_000)
    page.locator("#run-button").click()
    expect(page.locator(".toast-body").first).to_be_visible(timeout=60_000)  # an error toast is open
    page.wait_for_timeout(500)
    assert visible_error_badges(page) == 0  # (2) the message is the toast; no "Error" badge over the results

    noise = np.random.default_rng(0).integers(0, 256, (1300, 1300, 3), dtype=np.uint8)
    too_large = tmp_path / "too_large.png"
    Image.fromarray(noise).save(too_large, compress_level=0)  # ~5 MB, over the 3 MB limit
    page.locator("#image-input input[type=file]").set_input_files(str(too_large))
    note = page.locator("#image-input-note")
    expect(note).to_be_visible(timeout=10_000)
    expect(note).to_contain_text("too_large.png")
    expect(note).to_contain_text("3 MB")
    expect(note).to_contain_text(re.compile(r"is \d+\.\d MB: the upload limit is 3 MB"))
    # one message in one wording: Gradio's own toast ("exceed the maximum allowed size of 3.0 Mb") is not shown too
    page.wait_for_timeout(1_500)
    assert page.get_by_text(re.compile("maximum allowed size", re.I)).count() == 0
    # the note outlives the toasts: wait until every toast has closed by itself (Gradio's 10 s), then look again
    expect(page.locator(".toast-body")).to_have_count(0, timeout=30_000)
    expect(note).to_be_visible()
    expect(note).to_contain_text("too_large.png")

    # the PDF box gets the same single note
    too_large_pdf = tmp_path / "too_large.pdf"
    too_large_pdf.write_bytes(b"%PDF-1.4\n" + bytes(4 * 2**20))
    page.locator("#pdf-input input[type=file]").set_input_files(str(too_large_pdf))
    expect(page.locator("#pdf-input-note")).to_contain_text("too_large.pdf", timeout=10_000)
    page.wait_for_timeout(1_500)
    assert page.get_by_text(re.compile("maximum allowed size", re.I)).count() == 0
    page.close()


def test_mobile_run_scrolls_to_the_results_with_large_targets_and_whole_headers(browser, server, shots):
    """(5) At 390x844: results start below the fold, header words broke, icon buttons were 18-24 px."""
    page = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page.goto(server.url)
    upload_and_run(page, ASSETS_DIR / "receipt.jpg")
    in_view = "() => { const top = document.getElementById('summary').getBoundingClientRect().top;" \
        " return top > -1 && top < window.innerHeight / 2; }"  # a scroll may stop a fraction of a pixel past
    try:
        page.wait_for_function(in_view, timeout=5_000)  # a smooth scroll takes a moment
    except Exception:  # noqa: BLE001 - report where the results are instead of a bare timeout
        top = page.locator("#summary").evaluate("node => node.getBoundingClientRect().top")
        pytest.fail(f"results start at {top:.0f} px of 844: not scrolled into view")

    for header in page.locator("#lines-table th").all():  # each header on one line, no word broken
        lines = header.evaluate(
            """th => { const range = document.createRange(); range.selectNodeContents(th);
                       return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"""
        )
        assert lines == 1, f"header {header.inner_text()!r} wraps over {lines} lines"

    small = page.evaluate(  # every visible control; a checkbox counts by its label (the tap target)
        """() => [...document.querySelectorAll('button, a, input, select, textarea, [role=button], tr.ocrt-row')]
            .filter((node) => node.offsetParent !== null && node.getBoundingClientRect().height > 1)
            .map((node) => {
                const target = /checkbox|radio/.test(node.type) && node.closest('label') ? node.closest('label') : node;
                const box = target.getBoundingClientRect();
                return [node.getAttribute('aria-label') || node.textContent.trim().slice(0, 20) || node.type,
                        Math.round(box.width), Math.round(box.height)];
            })
            .filter(([, w, h]) => w < 40 || h < 40)"""
    )
    assert small == [], f"touch targets under 40 px: {small}"

    # pinch (two touch pointers moving apart) zooms the image in
    fitted = float(page.locator("#explorer [data-scale]").first.get_attribute("data-scale"))
    page.locator("#explorer .ocrx-view").evaluate(
        """(view) => {
            const r = view.getBoundingClientRect(), y = r.top + r.height / 2, x = r.left + r.width / 2;
            const fire = (type, id, px) => view.dispatchEvent(new PointerEvent(type, {pointerId: id, pointerType: 'touch',
                clientX: px, clientY: y, bubbles: true, cancelable: true, isPrimary: id === 1}));
            fire('pointerdown', 1, x - 40); fire('pointerdown', 2, x + 40);
            for (let step = 1; step <= 5; step++) { fire('pointermove', 1, x - 40 - step * 16); fire('pointermove', 2, x + 40 + step * 16); }
            fire('pointerup', 1, x - 120); fire('pointerup', 2, x + 120);
        }"""
    )
    pinched = float(page.locator("#explorer [data-scale]").first.get_attribute("data-scale"))
    assert pinched == pytest.approx(fitted * 3, rel=0.02)  # fingers 80 px -> 240 px apart
    page.get_by_role("button", name="Reset: fit the whole image").tap()

    last = page.locator("#lines-table tr.ocrt-row").last
    last.scroll_into_view_if_needed()
    last.tap()
    selected = page.locator("#explorer g.ocrx-line.sel")
    expect(selected).to_have_attribute("data-n", last.get_attribute("data-n"))
    page.wait_for_timeout(1000)  # smooth scroll
    box = selected.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 844, f"tapped line's box off screen: {box}"
    page.screenshot(path=str(shots / "mobile.png"))
    page.close()


def test_contrast_holds_in_the_dark_theme_too(browser, server):
    """(10) The AA colours must not turn into dark-on-dark in Gradio's dark theme."""
    page = browser.new_page(viewport={"width": 1366, "height": 900}, color_scheme="dark")
    page.goto(server.url + "?__theme=dark")
    for selector in ("#run-button", 'button[role="tab"][aria-selected="true"]', "footer button.show-api"):
        expect(page.locator(selector).first).to_be_visible(timeout=60_000)
        ratio = contrast(*colours(page, selector))
        assert ratio >= 4.5, f"dark theme, {selector}: contrast {ratio:.2f}:1"
    page.close()


def test_a_turned_receipt_and_a_two_page_pdf_through_the_page(browser, server, tmp_path):
    """A receipt photographed sideways reads upright (the summary says how it was turned); a 2-page PDF
    in the Batch tab gives one result per page and a zip whose searchable PDF has both pages."""
    import zipfile

    import pypdfium2 as pdfium

    from pdf_samples import pdf_of_images, text_page

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    with Image.open(ASSETS_DIR / "receipt.jpg") as receipt:
        receipt.rotate(90, expand=True).save(tmp_path / "sideways.jpg", quality=95)  # counter-clockwise
    upload_and_run(page, tmp_path / "sideways.jpg")
    expect(page.locator("#summary")).to_contain_text("turned 90° clockwise to read")
    page.get_by_role("tab", name="Full text").click()
    text = page.locator("#full-text textarea").input_value()
    assert all(words in text for words in RECEIPT_WORDS[:2]), text
    with page.expect_download(timeout=30_000) as info:
        page.locator("#pdf-download").click()
    info.value.save_as(tmp_path / "sideways.pdf")
    searchable = pdfium.PdfDocument(str(tmp_path / "sideways.pdf"))
    assert searchable[0].get_rotation() == 90 and "CORNER" in searchable[0].get_textpage().get_text_range()

    pdf = tmp_path / "two_pages.pdf"
    pdf.write_bytes(pdf_of_images([text_page(["First page 111"], size=(425, 300)), text_page(["Second page 222"], size=(425, 300))], resolution=50.0))
    run_batch(page, [pdf], "1 of 1 files read (2 pages and images)")
    expect(page.locator("#batch-table")).to_contain_text("two_pages.pdf · page 2 of 2")
    with page.expect_download(timeout=30_000) as info:
        page.locator("#zip-download").click()
    info.value.save_as(tmp_path / "batch.zip")
    with zipfile.ZipFile(tmp_path / "batch.zip") as archive:
        document = pdfium.PdfDocument(archive.read("01_two_pages/two_pages.searchable.pdf"))
    assert [document[i].get_textpage().get_text_range().split() for i in range(len(document))] == [
        ["First", "page", "111"], ["Second", "page", "222"]
    ]
    page.close()


def test_a_pdf_in_the_single_tab_is_read_page_by_page(browser, server, tmp_path):
    from pdf_samples import pdf_of_images, text_page

    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(pdf_of_images([text_page(["Dear reader 111"], size=(425, 300)), text_page(["Kind regards 222"], size=(425, 300))], resolution=50.0))
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    read_pdf(page, pdf, "2 pages")
    expect(page.locator("#summary")).to_contain_text("Page 1 of 2")
    expect(page.locator("#lines-table")).to_contain_text("Dear reader 111")
    expect(page.locator("#history img")).to_have_count(1)  # the document is one history entry
    expect(page.locator("#history .caption-label")).to_have_text("letter.pdf · 2 pages")
    page.close()


def choose(page, dropdown: str, option: str) -> None:
    """Pick `option` (the start of its label) in the Gradio dropdown with elem_id `dropdown`."""
    field = page.locator(f"#{dropdown} input")
    if not page.get_by_role("option").first.is_visible():
        field.click()  # opens the list
    # the name, then the end or " — description" (ppocrv6-small must not pick ppocrv6-small-receipts)
    label = re.compile("^" + re.escape(option) + "( — |$)")
    page.get_by_role("option", name=label).click()
    expect(page.locator(f"#{dropdown} input")).to_have_value(label)


def test_the_model_choice_switches_between_small_and_tiny_and_the_result_says_which(browser, server):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    upload_and_run(page, ASSETS_DIR / "receipt.jpg")
    summary = page.locator("#summary")
    expect(summary).to_contain_text("checkpoint ppocrv6-small")  # the default
    page.get_by_text("Options", exact=True).click()
    expect(page.locator("#model")).to_be_visible()
    expect(page.locator("#model input")).to_have_value(re.compile("^ppocrv6-small"))
    page.locator("#model input").click()
    labels = [text.split("\n")[-1] for text in page.get_by_role("option").all_inner_texts()]  # after the ✓ mark
    assert [label.split(" — ")[0] for label in labels] == ["ppocrv6-small", "ppocrv6-tiny", "ppocrv6-small-receipts"], labels
    assert "faster" in labels[1] and "reads better" in labels[0]  # the descriptions say which is which
    for name in ("ppocrv6-tiny", "ppocrv6-small"):
        choose(page, "model", name)
        page.locator("#run-button").click()
        expect(summary).to_contain_text(f"checkpoint {name}", timeout=RUN_TIMEOUT_MS)
        expect(page.locator("#lines-table")).to_contain_text("TOTAL")
