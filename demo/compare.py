"""Compare view: the same page read by two checkpoints, line by line, with the lines that differ marked.

Two checkpoints can find different lines (other detectors), so lines are paired by where they are on the
page (their boxes overlap), not by position in the list; a line only one checkpoint found is a difference
too. Pure: no Gradio, no engine calls (the handler reads the page with each checkpoint in turn).
"""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ocr_model.types import Predictions

# Two lines are the same line of the page when their bounding boxes overlap at least this much
# (intersection over union): tight enough that neighbouring lines never pair, loose enough for two
# detectors' slightly different boxes around one line.
PAIRING_IOU = 0.5

# Colours of the table (inline, so the view needs no stylesheet): a row whose texts differ, a row only one
# checkpoint found, and the characters that differ inside a row. Translucent, so they tint the theme's own
# background and keep its text colour (readable in light and dark mode); the "≠" cell and underlined
# characters say the same without colour.
CHANGED_ROW_STYLE = "background-color: rgba(245, 158, 11, 0.22)"
MISSING_ROW_STYLE = "background-color: rgba(239, 68, 68, 0.18)"
CHANGED_TEXT_STYLE = (
    "background-color: rgba(234, 88, 12, 0.35); color: inherit; text-decoration: underline; border-radius: 2px"
)


@dataclass(frozen=True)
class ComparedLine:
    """One row: the line as each checkpoint read it (number 1-based in that checkpoint's result; None
    where it found no such line)."""

    number_a: int | None
    text_a: str
    number_b: int | None
    text_b: str

    @property
    def differs(self) -> bool:
        return self.number_a is None or self.number_b is None or self.text_a != self.text_b

    @property
    def kind(self) -> str:
        """"same", "changed" (both read it, differently) or "missing" (only one checkpoint found it)."""
        if self.number_a is None or self.number_b is None:
            return "missing"
        return "changed" if self.text_a != self.text_b else "same"


@dataclass(frozen=True)
class Comparison:
    name_a: str
    name_b: str
    lines: tuple[ComparedLine, ...]
    seconds_a: float = 0.0
    seconds_b: float = 0.0

    @property
    def differing(self) -> int:
        return sum(line.differs for line in self.lines)

    def summary(self) -> str:
        """Markdown: how many lines differ, and each checkpoint's time."""
        return self._sentence(lambda name: f"`{_code(name)}`", lambda words: f"**{words}**")

    def _sentence(self, code: Callable[[str], str], strong: Callable[[str], str]) -> str:
        """How many lines differ, and each checkpoint's time, in one markup: `code` marks up a checkpoint's
        name, `strong` the count."""
        a, b = code(self.name_a), code(self.name_b)
        count = len(self.lines)
        if count == 0:
            head = f"Neither {a} nor {b} found any text"
        elif self.differing == 0:
            head = f"{strong(f'All {count} lines read the same')} with {a} and {b}"
        else:
            plural = "s" if count != 1 else ""
            head = f"{strong(f'{self.differing} of {count} line{plural} differ')} between {a} and {b}"
        return f"{head} · {a} {self.seconds_a:.2f} s · {b} {self.seconds_b:.2f} s"

    def rows(self) -> list[list[str]]:
        """[line, text A, text B, "≠" or ""] per row ("line" is A's number, or B's in brackets)."""
        return [
            [_number(line), line.text_a, line.text_b, "≠" if line.differs else ""] for line in self.lines
        ]

    def html(self, page: str = "") -> str:
        """The summary and the table as HTML, differing rows marked: coloured (a changed read amber, a line
        only one checkpoint found red), with the characters that differ highlighted and underlined, plus a
        class and a ≠ cell (not colour alone). Every text is escaped: line texts come from the image, names
        from file names. `page` ("Page 1 of 3") heads the summary: the view stays on screen while the
        result beside it may show another page of the PDF."""
        a, b = html.escape(self.name_a), html.escape(self.name_b)
        sentence = self._sentence(lambda name: f"<code>{html.escape(name)}</code>", lambda words: f"<strong>{words}</strong>")
        if page:
            sentence = f"<span class='compare-page'>{html.escape(page)}:</span> {sentence}"
        table = (
            "<table class='compare-table'><thead><tr><th scope='col'>Line</th>"
            f"<th scope='col'>{a}</th><th scope='col'>{b}</th><th scope='col'>Differs</th></tr></thead><tbody>"
            + "".join(_row_html(line) for line in self.lines)
            + "</tbody></table>"
        )
        return f"<div class='compare-view'><p class='compare-summary'>{sentence}</p>{table}</div>"


def _row_html(line: ComparedLine) -> str:
    kind = line.kind
    if kind == "changed":
        text_a, text_b = marked_differences(line.text_a, line.text_b)
    else:
        text_a, text_b = html.escape(line.text_a), html.escape(line.text_b)
    style = {"changed": f" style='{CHANGED_ROW_STYLE}'", "missing": f" style='{MISSING_ROW_STYLE}'"}.get(kind, "")
    classes = "same" if kind == "same" else f"differs {kind}"
    return (
        f"<tr class='{classes}'{style}><td>{html.escape(_number(line))}</td><td>{text_a}</td><td>{text_b}</td>"
        f"<td>{'≠' if line.differs else ''}</td></tr>"
    )


def marked_differences(text_a: str, text_b: str) -> tuple[str, str]:
    """Both texts as escaped HTML with the characters that differ between them in <mark> (a character
    diff: "65.20" vs "65. 20" marks only the space)."""
    matcher = difflib.SequenceMatcher(None, text_a, text_b, autojunk=False)
    parts_a: list[str] = []
    parts_b: list[str] = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        for parts, text in ((parts_a, text_a[a0:a1]), (parts_b, text_b[b0:b1])):
            if not text:
                continue
            escaped = html.escape(text)
            parts.append(escaped if tag == "equal" else f"<mark style='{CHANGED_TEXT_STYLE}'>{escaped}</mark>")
    return "".join(parts_a), "".join(parts_b)


def _number(line: ComparedLine) -> str:
    return str(line.number_a) if line.number_a is not None else f"({line.number_b})"


def _code(text: str) -> str:
    return text.replace("`", "'")


def _boxes(polygons: Sequence[np.ndarray]) -> np.ndarray:
    """(N, 4) axis-aligned boxes x0, y0, x1, y1."""
    if not polygons:
        return np.zeros((0, 4))
    points = [np.asarray(polygon, dtype=np.float64).reshape(-1, 2) for polygon in polygons]
    return np.array([[p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()] for p in points])


def box_iou(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) intersection over union of axis-aligned boxes."""
    if len(boxes_a) == 0 or len(boxes_b) == 0:
        return np.zeros((len(boxes_a), len(boxes_b)))
    x0 = np.maximum(boxes_a[:, None, 0], boxes_b[None, :, 0])
    y0 = np.maximum(boxes_a[:, None, 1], boxes_b[None, :, 1])
    x1 = np.minimum(boxes_a[:, None, 2], boxes_b[None, :, 2])
    y1 = np.minimum(boxes_a[:, None, 3], boxes_b[None, :, 3])
    intersection = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (boxes_a[:, 2] - boxes_a[:, 0]) * (boxes_a[:, 3] - boxes_a[:, 1])
    area_b = (boxes_b[:, 2] - boxes_b[:, 0]) * (boxes_b[:, 3] - boxes_b[:, 1])
    union = area_a[:, None] + area_b[None, :] - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)


def pair_lines(polygons_a: Sequence[np.ndarray], polygons_b: Sequence[np.ndarray]) -> dict[int, int]:
    """A's line index -> B's line index for lines at the same place (greedy, best overlap first, each
    line paired at most once, overlap at least PAIRING_IOU)."""
    iou = box_iou(_boxes(polygons_a), _boxes(polygons_b))
    pairs: dict[int, int] = {}
    taken_b: set[int] = set()
    for flat in np.argsort(-iou, axis=None, kind="stable"):
        i, j = divmod(int(flat), iou.shape[1])
        if iou[i, j] < PAIRING_IOU:
            break
        if i not in pairs and j not in taken_b:
            pairs[i] = j
            taken_b.add(j)
    return pairs


def compare_lines(
    texts_a: Sequence[str],
    polygons_a: Sequence[np.ndarray],
    texts_b: Sequence[str],
    polygons_b: Sequence[np.ndarray],
) -> list[ComparedLine]:
    """Rows in A's reading order; a line only B found comes right after the row holding B's previous line."""
    pairs = pair_lines(polygons_a, polygons_b)
    rows = [
        ComparedLine(i + 1, texts_a[i], pairs[i] + 1 if i in pairs else None, texts_b[pairs[i]] if i in pairs else "")
        for i in range(len(texts_a))
    ]
    for j in sorted(set(range(len(texts_b))) - set(pairs.values())):
        after = max((k for k, row in enumerate(rows) if row.number_b is not None and row.number_b - 1 < j), default=-1)
        rows.insert(after + 1, ComparedLine(None, "", j + 1, texts_b[j]))
    return rows


def compare_predictions(
    name_a: str,
    predictions_a: Predictions,
    name_b: str,
    predictions_b: Predictions,
    seconds_a: float = 0.0,
    seconds_b: float = 0.0,
) -> Comparison:
    """The comparison of two reads of one page (`Predictions` of checkpoint A and B)."""
    lines = compare_lines(predictions_a.texts, predictions_a.polygons, predictions_b.texts, predictions_b.polygons)
    return Comparison(name_a, name_b, tuple(lines), seconds_a, seconds_b)
