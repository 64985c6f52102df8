"""The results one view steps through (issue 18): the pages of a PDF, or the files (and PDF pages) of a batch.

A set holds the same stored results as the history (display-size previews and predictions, never a full
image), so showing one costs no copies. A PDF's pages already share a document's part of the history budget
(`history.document_budget`). A batch's set is bounded like the history itself: at most `max_bytes` of results
(`history.entry_bytes`), the newest kept; an older result beyond it is kept as None, and opening it says so.

No Gradio here; `demo/ui/navigation.py` draws the strip (previous / "Page 3 of 20" / next).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from demo.compare import Comparison
from demo.history import Document, OcrResult, entry_bytes

PAGES = "pages"  # a PDF's pages
BATCH = "batch"  # the results of a batch, file after file (each PDF page is one)


@dataclass(frozen=True)
class PageComparison:
    """A run's compare view, kept with its PDF's pages so that it follows page turns without reading anything
    again: the page it covers (a position in the set) and the `Comparison` (line texts only, no images), rendered
    when shown: its HTML repeats inline styles per marked character run, up to ~4x the object's size (a 200-line
    page, every line read differently: 158 kB of HTML). `note` stands in for it on the other pages; alone (no
    comparison) it is the view on every page."""

    position: int
    comparison: Comparison | None
    heading: str  # the page it covers, "Page 1 of 3"; "" for an image
    note: str

    def html(self) -> str:
        return self.comparison.html(self.heading) if self.comparison is not None else self.note


@dataclass(frozen=True)
class PageSet:
    name: str  # the PDF's file name, or "batch"
    items: tuple[OcrResult | None, ...]  # in order; None: not kept (over the memory budget)
    position: int = 0  # the one shown
    kind: str = PAGES
    page_count: int = 0  # pages in the PDF; more than len(items) when only the first ones were read
    rows: tuple[int | None, ...] = ()  # a batch summary row -> its position in items (None: nothing read)
    batch: Any = None  # a batch's (headline, records at confidence 0), as the session state keeps it
    exports: dict[str, str | None] | None = None  # the set's downloads (paths by export button key), if kept
    # the run's compare view, dropped with the set (a new run, a history entry or a batch makes a set without)
    compare: PageComparison | None = None

    def __post_init__(self) -> None:
        if not self.items or not 0 <= self.position < len(self.items):
            raise ValueError(f"position {self.position} is outside a set of {len(self.items)}")

    @property
    def current(self) -> OcrResult | None:
        return self.items[self.position]

    def at(self, position: int) -> "PageSet":
        """The same set showing `position` (clamped to the first and last)."""
        return replace(self, position=max(0, min(len(self.items) - 1, int(position))))

    def compare_html(self) -> str | None:
        """The compare view beside the shown result: the comparison on the page it covers, its note on the other
        pages (page 1's comparison beside page 3's result would read as page 3's); None without one."""
        if self.compare is None:
            return None
        return self.compare.html() if self.position == self.compare.position else self.compare.note

    def label(self) -> str:
        """What the strip says: "Page 3 of 20" for a PDF; "3 of 12 · receipt.jpg" in a batch."""
        if self.kind == PAGES:
            count = max(self.page_count, len(self.items))
            text = f"Page {self.position + 1} of {count}"
            return text + f" (the first {len(self.items)} read)" if count > len(self.items) else text
        item = self.current
        name = item.name if item is not None else "not kept"
        return f"{self.position + 1} of {len(self.items)} · {name}"


def document_set(pages: Sequence[OcrResult], name: str) -> PageSet | None:
    """The set of a PDF's pages (None for a single image or a one-page PDF: nothing to step through)."""
    if len(pages) < 2:
        return None
    first = getattr(pages[0], "page", None)
    return PageSet(name=name, items=tuple(pages), page_count=first.count if first is not None else len(pages))


def entry_set(entry: OcrResult | Document) -> PageSet | None:
    """The set of a history entry: a document's pages, or None for one image."""
    if isinstance(entry, Document) and len(entry.pages) > 1:
        return PageSet(name=entry.name, items=tuple(entry.pages), page_count=max(entry.page_count, len(entry.pages)))
    return None


def batch_set(
    results: Sequence[OcrResult],
    statuses: Sequence[str],
    max_bytes: int,
    batch: Any = None,
    exports: dict[str, str | None] | None = None,
) -> PageSet | None:
    """The set of a batch's results, showing the last one. `statuses` are the summary rows' statuses in
    order: each "ok" row is the next result. Results over `max_bytes` (counted from the newest) are None."""
    if not results:
        return None
    kept: list[OcrResult | None] = []
    used = 0
    for result in reversed(results):
        size = entry_bytes(result)
        if kept and used + size > max_bytes:
            kept.append(None)
            continue
        kept.append(result)
        used += size
    rows: list[int | None] = []
    found = 0
    for status in statuses:
        rows.append(found if status == "ok" else None)
        found += status == "ok"
    items = tuple(reversed(kept))
    return PageSet(
        name="batch", items=items, position=len(items) - 1, kind=BATCH, rows=tuple(rows), batch=batch, exports=exports
    )
