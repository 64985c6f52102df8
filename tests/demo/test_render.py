import numpy as np
import pytest

from demo.render import (
    BOX_COLOR,
    HIGHLIGHT_COLOR,
    DisplayTransform,
    decode_jpeg,
    display_transform,
    downscale,
    draw_annotations,
    encode_jpeg,
)


def test_large_image_is_capped_on_its_longer_side_and_keeps_its_aspect():
    transform = display_transform((7000, 5000), 2048)
    assert transform.display_size == (2048, 1463)
    assert not transform.is_identity


def test_small_image_is_never_upscaled():
    transform = display_transform((300, 500), 2048)
    assert transform.display_size == (300, 500) and transform.is_identity
    np.testing.assert_array_equal(transform.scale_xy, [1.0, 1.0])


def test_polygon_scaling_uses_the_exact_per_axis_factors_of_the_resize():
    transform = display_transform((4600, 3565), 2048)
    display_height, display_width = transform.display_size
    polygon = np.array([[10.5, 20.25], [3565.0, 0.0], [3565.0, 4600.0], [0.0, 4600.0]], dtype=np.float32)
    scaled = transform.to_display(polygon)
    expected = polygon.astype(np.float64) * np.array([display_width / 3565, display_height / 4600])
    np.testing.assert_array_equal(scaled, expected)
    # the image corners land exactly on the display image's corners
    np.testing.assert_array_equal(scaled[2], [display_width, display_height])
    np.testing.assert_allclose(transform.to_original(scaled), polygon, rtol=0, atol=1e-9)


def test_bad_polygon_shape_fails_fast():
    with pytest.raises(ValueError, match=r"\(K, 2\)"):
        DisplayTransform((10, 10), (5, 5)).to_display(np.zeros((4, 3)))


def test_downscale_returns_a_new_array_of_display_size_and_leaves_the_input_alone():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (900, 1500, 3), dtype=np.uint8)
    before = image.copy()
    transform = display_transform(image.shape[:2], 600)
    small = downscale(image, transform)
    assert small.shape == (360, 600, 3) and small.dtype == np.uint8
    np.testing.assert_array_equal(image, before)
    same = downscale(image, display_transform(image.shape[:2], 4000))
    assert same is not image and not np.shares_memory(same, image)
    np.testing.assert_array_equal(same, image)


def test_downscale_rejects_wrong_inputs():
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        downscale(np.zeros((10, 10), np.uint8), display_transform((10, 10), 5))
    with pytest.raises(ValueError, match="transform expects"):
        downscale(np.zeros((10, 12, 3), np.uint8), display_transform((10, 10), 5))


def test_drawing_marks_the_polygon_outline_and_never_touches_the_input():
    image = np.full((200, 300, 3), 255, dtype=np.uint8)
    before = image.copy()
    polygon = np.array([[50, 60], [250, 60], [250, 140], [50, 140]], dtype=np.float64)
    drawn = np.asarray(draw_annotations(image, [polygon], labels=["1"]))
    np.testing.assert_array_equal(image, before)
    assert drawn.shape == image.shape
    assert tuple(drawn[100, 250]) == BOX_COLOR  # right edge, mid-height: the outline colour
    assert tuple(drawn[10, 10]) == (255, 255, 255)  # far from the box: untouched
    inside = drawn[100, 150].astype(int)
    assert (inside < 255).any() and (inside > 200).all()  # light tint inside, text stays readable


def test_highlighted_polygon_is_drawn_in_the_highlight_colour():
    image = np.full((200, 300, 3), 255, dtype=np.uint8)
    first = np.array([[20, 20], [120, 20], [120, 60], [20, 60]], dtype=np.float64)
    second = np.array([[20, 120], [280, 120], [280, 180], [20, 180]], dtype=np.float64)
    drawn = np.asarray(draw_annotations(image, [first, second], labels=["1", "2"], highlight=1))
    assert tuple(drawn[150, 280]) == HIGHLIGHT_COLOR
    assert tuple(drawn[40, 120]) == BOX_COLOR


def test_text_labels_are_optional_and_lengths_must_match():
    image = np.full((120, 200, 3), 255, dtype=np.uint8)
    polygon = np.array([[20, 60], [180, 60], [180, 100], [20, 100]], dtype=np.float64)
    plain = np.asarray(draw_annotations(image, [polygon], labels=["1"]))
    with_text = np.asarray(draw_annotations(image, [polygon], labels=["1"], texts=["HELLO"]))
    assert (with_text[66:95, 30:170] < 100).any() and not (plain[66:95, 30:170] < 100).any()  # dark text in the box
    assert (with_text[:55, 60:] == plain[:55, 60:]).all()  # nothing written above the box
    with pytest.raises(ValueError, match="same length"):
        draw_annotations(image, [polygon], labels=[])


def test_written_text_on_a_dense_page_never_covers_the_line_above():
    """Issue 10 (6): each text label covered the line above and its number tag."""
    rng = np.random.default_rng(1)
    image = rng.integers(150, 256, (240, 400, 3), dtype=np.uint8)
    lines = [np.array([[60, y], [380, y], [380, y + 22], [60, y + 22]], dtype=np.float64) for y in range(20, 220, 25)]
    labels = [str(n) for n in range(1, len(lines) + 1)]
    texts = [f"LINE {n} TOTAL 12.50" for n in range(1, len(lines) + 1)]
    everything = np.asarray(draw_annotations(image, lines, labels, texts=texts))
    for upper in range(len(lines) - 1):
        # the same drawing with the NEXT line's text left out: the upper line's box must look identical
        without_next = list(texts)
        without_next[upper + 1] = ""
        alone = np.asarray(draw_annotations(image, lines, labels, texts=without_next))
        y0, y1 = int(lines[upper][0, 1]) - 10, int(lines[upper][2, 1]) - 2
        assert (everything[y0:y1, :] == alone[y0:y1, :]).all(), f"line {upper + 2}'s text covers line {upper + 1}"


def test_number_tags_of_neighbouring_boxes_keep_a_gap():
    """Issue 10 (11): tags "1" and "20" side by side read "120"."""
    image = np.full((120, 400, 3), 255, dtype=np.uint8)
    first = np.array([[40, 40], [100, 40], [100, 60], [40, 60]], dtype=np.float64)
    second = np.array([[104, 40], [300, 40], [300, 60], [104, 60]], dtype=np.float64)  # right after the first
    # the layout draw_annotations uses: no two tag rectangles closer than the gap
    from PIL import Image, ImageDraw

    from demo.render import TAG_GAP, _font, _overlaps, _place_tag

    canvas = ImageDraw.Draw(Image.new("RGBA", (400, 120)))
    placed = []
    for polygon, label in ((first, "1"), (second, "20")):
        rect = _place_tag(canvas, [tuple(p) for p in polygon], label, _font(13), placed, (400, 120))
        assert not any(_overlaps(rect, other, TAG_GAP - 0.5) for other in placed)
        placed.append(rect)


def test_box_outlines_stay_visible_on_coloured_photos():
    """Issue 10 (11): 2 px blue boxes vanished on coloured photos; a 3 px outline with a white rim stays visible."""
    polygon = np.array([[50, 60], [250, 60], [250, 140], [50, 140]], dtype=np.float64)
    for background in (BOX_COLOR, (20, 100, 60), (30, 30, 30)):  # the box colour itself, a green sign, a dark photo
        image = np.zeros((200, 300, 3), dtype=np.uint8)
        image[:] = background
        drawn = np.asarray(draw_annotations(image, [polygon], labels=["1"])).astype(int)
        across_edge = drawn[100, 240:262]  # mid-height, across the right edge
        difference = np.abs(across_edge - np.array(background)).sum(axis=1)
        assert (difference > 250).sum() >= 2, f"outline hardly visible on {background}: {difference}"
        assert (np.abs(drawn[100, 245:256] - np.array(BOX_COLOR)).sum(axis=1) < 40).sum() >= 3  # >= 3 px of box colour


def test_jpeg_round_trip_keeps_size_and_is_compact():
    gradient = np.tile(np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None], (480, 1, 3))
    data = encode_jpeg(gradient, 85)
    assert data[:2] == b"\xff\xd8"
    assert len(data) < gradient.nbytes / 20
    back = decode_jpeg(data)
    assert back.shape == gradient.shape
    assert np.abs(back.astype(int) - gradient.astype(int)).max() < 12


def test_number_tags_follow_the_browsers_spots_in_order_and_fall_back_to_the_first():
    """One tag placement rule (issue 15): left of the box, else inside, above, below (as explorer.js);
    when all four are taken, the first, not a fifth spot the browser does not know."""
    from PIL import Image, ImageDraw

    from demo.render import TAG_SPOTS, _font, _place_tag

    assert TAG_SPOTS == ("left", "inside", "above", "below")
    canvas = ImageDraw.Draw(Image.new("RGBA", (400, 300)))
    box = [(150.0, 100.0), (300.0, 100.0), (300.0, 200.0), (150.0, 200.0)]  # tall: a lower-left spot would be free
    font = _font(13)
    first = _place_tag(canvas, box, "7", font, [], (400, 300))
    width, height = first[2] - first[0], first[3] - first[1]
    spots = [
        (150 - width - 1, 100),  # left
        (150, 100),  # inside
        (150, 100 - height - 1),  # above
        (150, 201),  # below
    ]
    expected = [(x, y, x + width, y + height) for x, y in spots]
    # a 1 px tag at the middle of a spot takes that spot only (the spots are further apart than the gap)
    taken = [(x + width / 2, y + height / 2, x + width / 2 + 1, y + height / 2 + 1) for x, y in spots]
    for number in range(len(TAG_SPOTS)):
        assert _place_tag(canvas, box, "7", font, taken[:number], (400, 300)) == expected[number], TAG_SPOTS[number]
    assert _place_tag(canvas, box, "7", font, taken, (400, 300)) == expected[0]
