"""The reading view in a real browser (issue 18): the text beside the image, line numbers that no longer
cover the text, and monospace text. Same set-up as tests/demo/ui/test_browser.py (Chromium via Playwright, the
real app and model; skipped without a browser unless OCR_REQUIRE_BROWSER=1)."""

from __future__ import annotations

import re

import pytest

from conftest import ASSETS_DIR
from test_browser import RUN_TIMEOUT_MS, browser, expect, read_pdf, run_batch, server, shots, upload_and_run  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

VISIBLE_TAGS = """() => [...document.querySelectorAll('#explorer .ocrx-tag')]
    .filter((tag) => getComputedStyle(tag).display !== 'none')
    .map((tag) => { const r = tag.getBoundingClientRect(); return [Number(tag.dataset.n), r.left, r.top, r.right, r.bottom]; })"""


def boxes(page, *selectors: str) -> list[dict]:
    """Page rectangles of the first match of each selector, taken at one moment (the page may be scrolling)."""
    found = page.evaluate(
        """(selectors) => selectors.map((s) => { const node = document.querySelector(s);
            if (!node) return null; const r = node.getBoundingClientRect();
            return {x: r.left, y: r.top, width: r.width, height: r.height}; })""",
        list(selectors),
    )
    assert None not in found, f"not rendered: {selectors} -> {found}"
    return found


def top_at(page, selector: str) -> None:
    """Scroll `selector` to the top of the window (for a screenshot), once any smooth scroll has settled."""
    page.wait_for_function(
        """() => new Promise((done) => { const y = window.scrollY; setTimeout(() => done(window.scrollY === y), 300); })""",
        timeout=10_000,
    )
    page.locator(selector).evaluate("node => node.scrollIntoView({block: 'start', behavior: 'instant'})")


def test_text_beside_the_image_linked_to_the_boxes_and_the_table(browser, server, shots):  # noqa: F811
    """Side panel: beside the image on a desktop, monospace, plain/layout switch, copy, selection in both."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
    page = context.new_page()
    page.goto(server.url)
    upload_and_run(page, ASSETS_DIR / "receipt.jpg")
    panel = page.locator("#explorer .ocrx-textpanel")
    expect(panel).to_contain_text("CORNER CAFE")
    image, side = boxes(page, "#explorer .ocrx-view", "#explorer .ocrx-side")
    assert side["x"] >= image["x"] + image["width"] - 1, (image, side)  # beside, not below
    assert side["y"] < image["y"] + image["height"] / 2
    page.get_by_role("tab", name="Full text").click()
    expect(page.locator("#full-text textarea")).to_be_visible()
    fonts = page.evaluate(
        "() => [getComputedStyle(document.querySelector('#explorer .ocrx-tl-text')).fontFamily,"
        " getComputedStyle(document.querySelector('#full-text textarea')).fontFamily]"
    )
    assert all(font.startswith("ui-monospace") and "CJK" in font for font in fonts), fonts
    # monospace in fact: "iiii" and "MMMM" take the same width in the panel's font
    widths = page.evaluate(
        """() => { const probe = document.createElement('span');
            const row = document.querySelector('#explorer .ocrx-tl-text'); row.appendChild(probe);
            probe.textContent = 'iiii'; const a = probe.getBoundingClientRect().width;
            probe.textContent = 'MMMM'; const b = probe.getBoundingClientRect().width; probe.remove(); return [a, b]; }"""
    )
    assert abs(widths[0] - widths[1]) < 0.5, widths
    page.get_by_role("tab", name="Lines").click()

    # a line clicked in the panel is selected on the image and in the table, and marked in the panel
    panel.locator('.ocrx-tl[data-n="8"]').click()
    expect(page.locator('#explorer .ocrx-line.sel')).to_have_attribute("data-n", "8")
    expect(page.locator("#lines-table tr.sel")).to_have_attribute("data-n", "8")
    expect(panel.locator(".ocrx-tl.sel")).to_have_attribute("data-n", "8")
    # and a row chosen in the table is marked in the panel
    page.locator('#lines-table tr[data-n="12"]').click()
    expect(panel.locator(".ocrx-tl.sel")).to_have_attribute("data-n", "12")

    # layout: the rows spaced as on the receipt, with the selected line marked
    page.locator("#explorer .ocrx-mode", has_text="Layout").click()
    layout = panel.locator("pre.ocrx-layout")
    expect(layout).to_contain_text(re.compile(r"Cappuccino {2,}3\.80"))
    expect(layout.locator("mark.sel")).to_have_text("Orange juice")
    page.locator("#explorer .ocrx-copy").click()
    expect(page.locator("#explorer .ocrx-copy")).to_have_text("Copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert re.search(r"Cappuccino {2,}3\.80", copied) and copied == layout.inner_text()
    page.locator("#explorer .ocrx-mode", has_text="Plain").click()
    page.locator("#explorer .ocrx-copy").click()
    expect(page.locator("#explorer .ocrx-copy")).to_have_text("Copied")
    plain = page.evaluate("() => navigator.clipboard.readText()")
    assert plain.splitlines()[:3] == ["CORNER CAFE", "12 Harbour Street", "Tel 0123 456 789"]
    page.locator("#explorer").screenshot(path=str(shots / "side_panel_desktop.png"))
    top_at(page, "#summary")
    page.mouse.move(1, 1)
    page.screenshot(path=str(shots / "side_panel_desktop_window.png"))  # the whole 1366 x 900 window
    context.close()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    phone.goto(server.url)
    upload_and_run(phone, ASSETS_DIR / "receipt.jpg")
    image, side = boxes(phone, "#explorer .ocrx-view", "#explorer .ocrx-side")
    assert side["y"] >= image["y"] + image["height"] - 1, (image, side)  # stacked under the image
    phone.locator("#explorer").screenshot(path=str(shots / "side_panel_phone.png"))
    top_at(phone, "#explorer .ocrx-side")
    phone.screenshot(path=str(shots / "side_panel_phone_window.png"))  # the 390 x 844 window at the text panel
    phone.close()


def test_the_layout_panel_marks_the_selected_line_where_it_is_not_where_its_text_first_occurs(browser, server, tmp_path):  # noqa: F811
    """The Layout view searched the layout text for the selected line's text, so the third "1.00" of a page
    marked the first one."""
    from pdf_samples import text_page

    path = tmp_path / "repeats.png"
    text_page(["1.00", "Tea", "1.00", "Milk", "1.00"], size=(425, 520), font_size=40).save(path)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    upload_and_run(page, path)
    rows = page.locator("#lines-table tr[data-n]")
    expect(rows).to_have_count(5)
    numbers = [int(row.get_attribute("data-n")) for row in rows.all() if row.locator("td.ocrt-text").inner_text() == "1.00"]
    assert len(numbers) == 3, page.locator("#lines-table").inner_text()
    page.locator("#explorer .ocrx-mode", has_text="Layout").click()
    layout = page.locator("#explorer pre.ocrx-layout")
    for nth, number in enumerate(numbers):
        page.locator(f'#lines-table tr[data-n="{number}"]').click()
        expect(layout.locator("mark.sel")).to_have_text("1.00")
        at, text = layout.evaluate("pre => [pre.querySelector('mark.sel').previousSibling.textContent.length, pre.textContent]")
        starts = [i for i in range(len(text)) if text.startswith("1.00", i)]
        assert len(starts) == 3 and at == starts[nth], (number, at, starts, text)
    page.close()


def test_line_numbers_show_on_hover_selection_and_zoom_without_covering_each_other(browser, server):  # noqa: F811
    """(4) At the default zoom, tags covered text on dense receipts and hid behind each other."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    upload_and_run(page, ASSETS_DIR / "receipt.jpg")
    assert page.evaluate(VISIBLE_TAGS) == []  # none over the text at the fitted size
    line = page.locator('#explorer .ocrx-line[data-n="18"] .ocrx-box')
    line.hover()
    assert [tag[0] for tag in page.evaluate(VISIBLE_TAGS)] == [18]  # the hovered line's own number
    line.click()
    page.mouse.move(5, 5)
    assert [tag[0] for tag in page.evaluate(VISIBLE_TAGS)] == [18]  # the selected line keeps it
    for _ in range(2):
        page.locator("#explorer .ocrx-in").click()
    tags = page.evaluate(VISIBLE_TAGS)
    lines = page.locator("#explorer .ocrx-line").count()
    assert len(tags) == lines  # zoomed in: every number, small enough to sit beside its box
    for i, a in enumerate(tags):
        for b in tags[i + 1 :]:
            assert a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2], f"tag {a[0]} overlaps tag {b[0]}"
    page.locator("#explorer .ocrx-fit").click()
    assert [tag[0] for tag in page.evaluate(VISIBLE_TAGS)] == [18]
    page.locator("#explorer .ocrx-numbers").click()  # "#": all numbers, always
    assert len(page.evaluate(VISIBLE_TAGS)) == lines
    page.close()


def strip_says(page, text: str) -> None:
    expect(page.locator("#page-of")).to_have_text(text, timeout=30_000)


def three_page_pdf(folder):
    from pdf_samples import pdf_of_images, text_page

    pdf = folder / "report.pdf"
    pages = [text_page([f"{word} page {n}11"], size=(425, 300)) for n, word in ((1, "First"), (2, "Second"), (3, "Third"))]
    pdf.write_bytes(pdf_of_images(pages, resolution=50.0))
    return pdf


@pytest.mark.parametrize("viewport", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_pdfs_pages_are_stepped_through_from_the_result(browser, server, shots, tmp_path, viewport):  # noqa: F811
    """(2) Only page 1 of a PDF was shown; the others only through the history (pages 11-20 not at all)."""
    width, height = viewport
    phone = width < 600
    page = browser.new_page(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone)
    page.goto(server.url)
    read_pdf(page, three_page_pdf(tmp_path), "3 pages")
    strip_says(page, "Page 1 of 3")
    expect(page.locator("#page-prev")).to_be_disabled()
    expect(page.locator("#lines-table")).to_contain_text("First page 111")
    page.locator("#page-next").click()
    strip_says(page, "Page 2 of 3")
    expect(page.locator("#lines-table")).to_contain_text("Second page 211")
    expect(page.locator("#summary")).to_contain_text("showing page 2")
    image = page.locator("#explorer img.ocrx-img")
    expect(image).to_have_attribute("alt", re.compile("report.pdf · page 2 of 3"))
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert max(natural) <= 2048  # the display copy, not the 1700 x 1200 px rendering's full size... nor more
    nav, view = boxes(page, "#page-nav", "#explorer .ocrx-view")
    assert nav["y"] + nav["height"] <= view["y"] + 1 and nav["width"] <= width  # the strip above the image, on screen
    for control in ("#page-prev", "#page-next"):
        control_box = page.locator(control).bounding_box()
        assert control_box["height"] >= 40 and control_box["x"] + control_box["width"] <= width
    top_at(page, "#summary")
    lines = page.locator("#page-of .page-of").evaluate(
        """node => { const range = document.createRange(); range.selectNodeContents(node);
                    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; }"""
    )
    assert lines == 1, "the strip's label wraps"
    page.screenshot(path=str(shots / f"pdf_page2_{'phone' if phone else 'desktop'}.png"))
    if not phone:  # PageDown / PageUp on the focused result: consecutive presses keep working
        page.locator("#explorer .ocrx-view").focus()
        page.keyboard.press("PageDown")
        strip_says(page, "Page 3 of 3")
        expect(page.locator("#page-next")).to_be_disabled()
        expect(page.locator("#lines-table")).to_contain_text("Third page 311")
        page.keyboard.press("PageUp")
        strip_says(page, "Page 2 of 3")
        page.keyboard.press("PageUp")
        strip_says(page, "Page 1 of 3")
        expect(page.locator("#lines-table")).to_contain_text("First page 111")
    page.close()


def test_pages_after_ten_of_a_22_page_pdf_are_shown_from_the_result(browser, server, tmp_path):  # noqa: F811
    """(2) Of a 22-page PDF, 20 pages were read but only page 1 was shown; pages 11-20 could not be seen."""
    from pdf_samples import pdf_of_images, text_page

    pdf = tmp_path / "long.pdf"
    pages = [text_page([f"Sheet {n}"], size=(170, 110), font_size=24, top=30) for n in range(1, 23)]
    # 1.7 x 1.1 inch pages: rendered at 340 x 220 px, so reading 20 of them stays a few seconds on any CPU
    pdf.write_bytes(pdf_of_images(pages, resolution=100.0))
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    read_pdf(page, pdf, "20 pages")
    strip_says(page, "Page 1 of 22 (the first 20 read)")
    page.locator("#page-next").focus()
    for number in range(2, 21):
        page.keyboard.press("PageDown")
        strip_says(page, f"Page {number} of 22 (the first 20 read)")
    assert " ".join(page.locator("#lines-table td.ocrt-text").all_inner_texts()).split() == ["Sheet", "20"]
    expect(page.locator("#explorer img.ocrx-img")).to_have_attribute("alt", re.compile("long.pdf · page 20 of 22"))
    expect(page.locator("#page-next")).to_be_disabled()
    page.close()


def test_a_batch_summary_row_opens_its_file_and_the_strip_steps_through_the_batch(browser, server, tmp_path):  # noqa: F811
    """(2) A batch showed its last file only, and its summary rows opened nothing."""
    from pdf_samples import text_page

    files = []
    for name, words in (("alpha.png", "Alpha 111"), ("beta.png", "Beta 222")):
        text_page([words], size=(425, 150)).save(tmp_path / name)
        files.append(tmp_path / name)
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    run_batch(page, files, "Batch: 2 of 2")
    strip_says(page, "2 of 2 · beta.png")
    page.locator("#batch-table").get_by_test_id("cell-0-0").click()  # the first row: alpha.png
    strip_says(page, "1 of 2 · alpha.png")
    expect(page.locator("#lines-table")).to_contain_text("Alpha 111")
    expect(page.locator("#summary")).to_contain_text("Batch: 2 of 2")  # still the batch's result (and JSON)
    page.locator("#page-next").click()
    strip_says(page, "2 of 2 · beta.png")
    expect(page.locator("#lines-table")).to_contain_text("Beta 222")
    page.close()


def test_an_example_clicked_after_a_pdf_replaces_it(browser, server, tmp_path):  # noqa: F811
    """(6) With a PDF chosen, clicking an example filled the image too; both showed a file and Run read the image."""
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(server.url)
    page.locator("#pdf-input input[type=file]").set_input_files(str(three_page_pdf(tmp_path)))
    expect(page.locator("#pdf-input")).to_contain_text("report", timeout=30_000)
    page.get_by_role("button", name="Receipt", exact=True).click()
    expect(page.locator("#image-input img")).to_have_attribute("src", re.compile("receipt"), timeout=60_000)
    expect(page.locator("#pdf-input")).not_to_contain_text("report", timeout=30_000)  # one file chosen, not two
    page.locator("#run-button").click()
    expect(page.locator("#summary")).to_contain_text("receipt.jpg", timeout=RUN_TIMEOUT_MS)
    # and the other way round: a PDF chosen after the image replaces it
    page.locator("#pdf-input input[type=file]").set_input_files(str(three_page_pdf(tmp_path)))
    expect(page.locator("#image-input img")).to_have_count(0, timeout=30_000)
    page.close()


def test_the_history_shows_every_entry_below_its_label(browser, server, tmp_path):  # noqa: F811
    """(8) The label covered the first row of thumbnails, and the 190 px height cut off the two oldest entries."""
    from pdf_samples import text_page

    files = []
    for n in range(10):
        text_page([f"Entry {n}"], size=(300, 100), font_size=30, top=30).save(tmp_path / f"entry{n}.png")
        files.append(tmp_path / f"entry{n}.png")
    for width, height in ((1366, 900), (390, 844)):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(server.url)
        run_batch(page, files, "Batch: 10 of 10")
        thumbnails = page.locator("#history button.thumbnail-item")
        expect(thumbnails).to_have_count(10, timeout=30_000)
        page.locator("#history").scroll_into_view_if_needed()
        geometry = page.evaluate(
            """() => { const box = (node) => { const r = node.getBoundingClientRect();
                    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
                const gallery = document.getElementById('history');
                const label = gallery.querySelector('[data-testid="block-label"], label, .block-label');
                const clips = [...gallery.querySelectorAll('*')].filter((node) => {
                    const style = getComputedStyle(node); return /auto|scroll|hidden|clip/.test(style.overflowY)
                        && node.querySelector('button.thumbnail-item'); });
                return {label: label && label.offsetParent !== null ? box(label) : null,
                        thumbs: [...gallery.querySelectorAll('button.thumbnail-item')].map(box),
                        clips: clips.map((node) => ({box: box(node), scroll: node.scrollHeight, client: node.clientHeight}))}; }"""
        )
        thumbs = geometry["thumbs"]
        for clip in geometry["clips"]:  # nothing hides thumbnails behind a scroll or a cut
            assert clip["scroll"] <= clip["client"] + 1, (width, clip)
            for thumb in thumbs:
                assert clip["box"]["top"] - 1 <= thumb["top"] and thumb["bottom"] <= clip["box"]["bottom"] + 1, (width, clip, thumb)
        if geometry["label"] is not None:
            label, first = geometry["label"], thumbs[0]
            overlap = label["left"] < first["right"] and first["left"] < label["right"] and label["top"] < first["bottom"] and first["top"] < label["bottom"]
            assert not overlap, (width, label, first)
        page.close()


def test_a_receipt_photographed_sideways_is_shown_upright(browser, server, shots, tmp_path):  # noqa: F811
    """(3) The summary said "turned 90° clockwise to read", but the view stayed sideways."""
    from PIL import Image

    with Image.open(ASSETS_DIR / "receipt.jpg") as receipt:
        receipt.rotate(90, expand=True).save(tmp_path / "sideways_receipt.jpg", quality=95)  # 1060 x 620, text sideways
    for width, height in ((1366, 900), (390, 844)):
        phone = width < 600
        page = browser.new_page(viewport={"width": width, "height": height}, has_touch=phone, is_mobile=phone)
        page.goto(server.url)
        upload_and_run(page, tmp_path / "sideways_receipt.jpg")
        expect(page.locator("#summary")).to_contain_text("turned 90° clockwise to read; shown upright")
        natural = page.locator("#explorer img.ocrx-img").evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert natural[0] < natural[1], natural  # portrait: upright, as the receipt was printed
        expect(page.locator("#explorer .ocrx-textpanel")).to_contain_text("CORNER CAFE")
        page.locator("#show-text input[type=checkbox]").check()
        expect(page.locator("#explorer text.ocrx-text").first).to_be_visible(timeout=30_000)
        top_at(page, "#summary")  # the summary says how it was turned; the image under it is upright
        page.mouse.move(1, 1)  # no hover highlight in the picture
        page.screenshot(path=str(shots / f"rotated_receipt_{'phone' if phone else 'desktop'}.png"))
        page.close()
