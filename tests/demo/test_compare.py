"""demo/compare.py: pairing two checkpoints' lines by place and marking the ones that differ."""

import numpy as np

from demo.compare import (
    CHANGED_ROW_STYLE,
    CHANGED_TEXT_STYLE,
    MISSING_ROW_STYLE,
    Comparison,
    ComparedLine,
    compare_lines,
    marked_differences,
    pair_lines,
)


def box(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


PAGE = [box(10, 10, 200, 30), box(10, 40, 200, 60), box(10, 70, 200, 90)]


def test_identical_reads_differ_nowhere():
    rows = compare_lines(["TOTAL", "16.42", "THANK YOU"], PAGE, ["TOTAL", "16.42", "THANK YOU"], PAGE)
    assert [(row.number_a, row.number_b) for row in rows] == [(1, 1), (2, 2), (3, 3)]
    assert not any(row.differs for row in rows)


def test_lines_pair_by_place_not_by_list_position_and_changed_text_is_marked():
    # B lists the same lines in another order, boxes a few pixels off, and reads the middle one differently
    shifted = [box(12, 72, 198, 91), box(11, 9, 203, 31), box(9, 41, 201, 59)]
    rows = compare_lines(["TOTAL", "16.42", "THANK YOU"], PAGE, ["THANK YOU", "TOTAL", "16.4Z"], shifted)
    assert [(row.number_a, row.text_a, row.number_b, row.text_b) for row in rows] == [
        (1, "TOTAL", 2, "TOTAL"), (2, "16.42", 3, "16.4Z"), (3, "THANK YOU", 1, "THANK YOU")
    ]
    assert [row.differs for row in rows] == [False, True, False]


def test_a_line_only_one_checkpoint_found_is_a_difference_in_its_place():
    only_a = compare_lines(["TOTAL", "16.42", "THANK YOU"], PAGE, ["TOTAL", "THANK YOU"], [PAGE[0], PAGE[2]])
    assert [(row.number_a, row.number_b, row.differs) for row in only_a] == [(1, 1, False), (2, None, True), (3, 2, False)]
    only_b = compare_lines(["TOTAL", "THANK YOU"], [PAGE[0], PAGE[2]], ["TOTAL", "16.42", "THANK YOU"], PAGE)
    assert [(row.number_a, row.text_b, row.differs) for row in only_b] == [(1, "TOTAL", False), (None, "16.42", True), (2, "THANK YOU", False)]
    assert Comparison("a", "b", tuple(only_b)).rows()[1] == ["(2)", "", "16.42", "≠"]


def test_neighbouring_lines_never_pair():
    assert pair_lines([box(10, 10, 200, 30)], [box(10, 25, 200, 45)]) == {}  # 5 px overlap of 20 px lines
    assert compare_lines([], [], [], []) == []


def test_summary_counts_and_html_marks_and_escapes():
    lines = (ComparedLine(1, "<b>x</b>", 1, "<b>x</b>"), ComparedLine(2, "a", 2, "b"), ComparedLine(None, "", 3, "c"))
    comparison = Comparison("ppocrv6-small", "ppocrv6-tiny", lines, 1.5, 0.5)
    assert comparison.differing == 2
    assert comparison.summary() == "**2 of 3 lines differ** between `ppocrv6-small` and `ppocrv6-tiny` · `ppocrv6-small` 1.50 s · `ppocrv6-tiny` 0.50 s"
    page = comparison.html()
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<strong>2 of 3 lines differ</strong> between <code>ppocrv6-small</code>" in page
    assert "<code>&lt;i&gt;</code>" in Comparison("<i>", "b", lines).html()  # names are escaped too
    assert page.count("class='differs changed'") == 1 and page.count("class='differs missing'") == 1
    assert page.count("class='same'") == 1
    same = Comparison("a", "b", lines[:1])
    assert same.summary().startswith("**All 1 lines read the same**")


def test_rows_that_differ_are_coloured_and_their_differing_characters_marked():
    lines = (
        ComparedLine(1, "TOTAL", 1, "TOTAL"),
        ComparedLine(2, "65.20", 2, "65. 20"),
        ComparedLine(3, "CASH", None, ""),
        ComparedLine(None, "", 3, "GST"),
    )
    page = Comparison("a", "b", lines).html()
    rows = page.split("<tr")[2:]  # after the header row
    assert "style=" not in rows[0] and "<mark" not in rows[0]  # a row read the same is left plain
    assert f"style='{CHANGED_ROW_STYLE}'" in rows[1]
    assert f"<td>65.20</td><td>65.<mark style='{CHANGED_TEXT_STYLE}'> </mark>20</td>" in rows[1]
    assert f"style='{MISSING_ROW_STYLE}'" in rows[2] and f"style='{MISSING_ROW_STYLE}'" in rows[3]
    assert [line.kind for line in lines] == ["same", "changed", "missing", "missing"]


def test_marked_differences_escape_every_part():
    a, b = marked_differences("<b>1</b>", "<b>7</b>")
    assert "<b>" not in a + b and a.startswith("&lt;b&gt;") and ">1</mark>" in a and ">7</mark>" in b
    assert marked_differences("same", "same") == ("same", "same")
    only_b = marked_differences("", "new")[1]
    assert only_b == f"<mark style='{CHANGED_TEXT_STYLE}'>new</mark>"


def test_the_html_names_the_page_it_compares_when_given():
    comparison = Comparison("a", "b", (ComparedLine(1, "x", 1, "x"),))
    headed = comparison.html("Page 1 of <3>")
    assert "<p class='compare-summary'><span class='compare-page'>Page 1 of &lt;3&gt;:</span> <strong>All 1" in headed
    assert "compare-page" not in comparison.html()  # one image: nothing to name
