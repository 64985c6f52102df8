"""A real browser (Debian chromium via Playwright) against the real app and model."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import ASSETS_DIR, AppServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_TIMEOUT_MS = 180_000  # one real OCR run on a loaded 2-core CI machine


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with AppServer(tmp_path_factory.mktemp("browser-server")) as app:
        yield app


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def upload_and_run(page, path) -> None:
    page.locator("#image-input input[type=file]").set_input_files(str(path))
    expect(page.locator("#image-input img")).to_be_visible(timeout=30_000)
    page.locator("#run-button").click()
    expect(page.locator("#summary")).to_contain_text(path.name, timeout=RUN_TIMEOUT_MS)


def test_upload_run_see_boxes_and_lines_then_restore_from_history(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    served_images = []
    page.on(
        "response",
        lambda response: served_images.append(response.url)
        if (response.headers.get("content-type") or "").startswith("image/")
        else None,
    )
    page.goto(server.url)
    expect(page.locator("h1")).to_contain_text("OCR demo")
    expect(page.locator("#run-button")).to_be_visible()

    upload_and_run(page, ASSETS_DIR / "receipt.jpg")
    annotated = page.locator("#annotated img")
    expect(annotated).to_be_visible()
    table = page.locator("#lines-table")
    for expected in ["CORNER CAFE", "12 Harbour Street", "Cappuccino", "Orange juice"]:  # first rows (the grid is virtualized)
        expect(table).to_contain_text(expected)
    expect(page.locator("#summary")).to_contain_text("lines")
    natural = annotated.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [620, 1060]  # receipt is below the display cap: shown 1:1

    before = annotated.get_attribute("src")
    table.get_by_text(re.compile(r"^TOTAL$")).first.click()
    expect(annotated).not_to_have_attribute("src", before, timeout=30_000)  # highlighted copy

    # the confidence filter re-draws the same result without running the model again
    threshold = page.locator("#confidence-filter input[type=number]")
    threshold.fill("0.99")
    threshold.press("Enter")
    expect(page.locator("#summary")).to_contain_text("shown (confidence ≥ 0.99)", timeout=30_000)
    cells = table.get_by_role("gridcell").all_inner_texts()
    assert cells and all(float(value) >= 0.99 for value in cells[2::3])
    threshold.fill("0")
    threshold.press("Enter")
    expect(page.locator("#summary")).not_to_contain_text("shown (confidence", timeout=30_000)

    page.locator("#examples button.gallery-item").nth(2).click()  # the sign example fills the input
    page.locator("#run-button").click()
    expect(page.locator("#summary")).to_contain_text("street_sign.jpg", timeout=RUN_TIMEOUT_MS)
    expect(table).to_contain_text("MAIN STREET")
    thumbnails = page.locator("#history button.thumbnail-item")
    expect(thumbnails).to_have_count(2)
    thumbnails.nth(1).click()  # the older entry: the receipt
    expect(page.locator("#summary")).to_contain_text("receipt.jpg", timeout=30_000)
    expect(table).to_contain_text("CORNER CAFE")

    screenshot = tmp_path / "page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 50_000
    assert any("_ocr.jpg" in url for url in served_images)
    assert any("_thumb.jpg" in url for url in served_images)
    page.close()
