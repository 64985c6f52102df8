"""Word boxes: CTC steps -> words (split_words), fractions -> polygons (word_polygons), and the
real engine's word boxes on rendered text of known layout."""

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr_model.pipeline.crops import crop_quad
from ocr_model.pipeline.words import WordSpan, crop_frame, split_words, word_polygons


def test_split_words_groups_characters_between_spaces_with_their_steps():
    emitted = [(c, step, 0.9) for c, step in zip("ab", (2, 4))] + [(c, step, 0.5) for c, step in zip("cd", (9, 11))]
    # a space recovered between b and c (no step of its own)
    words = split_words(list("ab cd"), emitted, total_steps=16)
    assert [w.text for w in words] == ["ab", "cd"]
    assert words[0].confidence == pytest.approx(0.9) and words[1].confidence == pytest.approx(0.5)
    # the pitch is 2 steps: 3/4 of a pitch (1.5 steps) each side of the character steps' centres,
    # but never past the middle of the gap between two words (steps 4 and 9: 6.75)
    assert (words[0].start, words[0].end) == (pytest.approx(1.0), pytest.approx(6.0))
    assert (words[1].start, words[1].end) == (pytest.approx(8.0), pytest.approx(13.0))


def test_split_words_keeps_emitted_spaces_out_and_normalizes_like_the_line_text():
    emitted = [("ﬁ", 1, 1.0), (" ", 3, 1.0), ("x", 5, 1.0)]  # the ligature becomes "fi" under NFKC
    words = split_words(["ﬁ", " ", "x"], emitted, total_steps=8)
    assert [w.text for w in words] == ["fi", "x"]
    assert split_words([], [], 8) == ()


def test_scaled_spans_are_fractions_clamped_to_the_crop():
    span = WordSpan("a", -1.0, 50.0, 1.0).scaled(8 / 320)
    assert (span.start, span.end) == (0.0, 1.0)


def quad(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


def test_word_polygons_of_an_axis_aligned_line_split_it_at_the_fractions():
    line = quad(100, 50, 300, 70)
    left, right = word_polygons(line, 0.0, [WordSpan("a", 0.0, 0.25, 1), WordSpan("b", 0.5, 1.0, 1)])
    np.testing.assert_allclose(left, quad(100, 50, 150, 70), atol=0.5)
    np.testing.assert_allclose(right, quad(200, 50, 300, 70), atol=0.5)


def test_word_polygons_follow_padding_rotation_flip_and_vertical_crops():
    line = quad(100, 50, 300, 70)
    # read at 180°: the first word is at the right of the image, its first point at bottom right
    (word,) = word_polygons(line, 0.0, [WordSpan("a", 0.0, 0.25, 1)], flipped=True)
    np.testing.assert_allclose(word, [[300, 70], [250, 70], [250, 50], [300, 50]], atol=0.5)
    # padding grows the crop: the full span covers the padded quad
    padded, width, height, vertical = crop_frame(line, 0.1)
    (word,) = word_polygons(line, 0.1, [WordSpan("a", 0.0, 1.0, 1)])
    np.testing.assert_allclose(word, padded, atol=0.5)
    assert not vertical and (width, height) == (crop_quad(np.zeros((200, 400, 3), np.uint8), line, 0.1).shape[1::-1])
    # a tall line is read as crop_quad turns it (counter-clockwise): its start is at the top
    column = quad(50, 100, 70, 300)
    assert crop_frame(column, 0.0)[3]
    (word,) = word_polygons(column, 0.0, [WordSpan("a", 0.0, 0.25, 1)])
    assert word[:, 1].min() == pytest.approx(100, abs=0.5) and word[:, 1].max() == pytest.approx(150, abs=0.5)
    assert word[:, 0].min() == pytest.approx(50, abs=0.5) and word[:, 0].max() == pytest.approx(70, abs=0.5)
    # a skewed quad: the word's corners stay on the line's edges
    skewed = np.array([[100, 50], [300, 90], [296, 110], [96, 70]], dtype=np.float32)
    (word,) = word_polygons(skewed, 0.0, [WordSpan("a", 0.5, 1.0, 1)])
    np.testing.assert_allclose(word[1], skewed[1], atol=0.5)
    np.testing.assert_allclose(word[2], skewed[2], atol=0.5)


FONT_SIZE = 32
LINES = ["Cappuccino large 3.80", "TOTAL AMOUNT RM 12.50", "Thank you, come again"]


def render_known_layout():
    """A page whose words' ink boxes are known: (image, [(word, (x0, y0, x1, y1))])."""
    font = ImageFont.load_default(size=FONT_SIZE)
    image = Image.new("RGB", (760, 320), "white")
    draw = ImageDraw.Draw(image)
    truth = []
    for row, line in enumerate(LINES):
        x, y = 30, 30 + row * 90
        for word in line.split():
            box = draw.textbbox((x, y), word, font=font)
            draw.text((x, y), word, fill=(0, 0, 0), font=font)
            truth.append((word, box))
            x = box[2] + 22
    return np.asarray(image), truth


def coverage(box, polygon):
    """Fraction of the ink box inside the polygon's bounding box, and that box's area over the ink's."""
    x0, y0 = polygon.min(axis=0)
    x1, y1 = polygon.max(axis=0)
    inter = max(0.0, min(x1, box[2]) - max(x0, box[0])) * max(0.0, min(y1, box[3]) - max(y0, box[1]))
    ink = (box[2] - box[0]) * (box[3] - box[1])
    return inter / ink, (x1 - x0) * (y1 - y0) / ink


@pytest.mark.slow  # the real model
@pytest.mark.parametrize("rotation", [0, 90])
def test_word_boxes_of_the_real_engine_cover_their_words(rotation):
    from ocr_model import get_model
    from ocr_model.pipeline.page_rotation import rotate_image, rotate_points_back

    image, truth = render_known_layout()
    turn = (360 - rotation) % 360
    turned = rotate_image(image, turn)  # the page as photographed sideways
    prediction = get_model().predict(turned)
    assert prediction.rotation == rotation
    words = [word for line in prediction.words for word in line]
    assert [word.text for word in words] == [word for word, _ in truth]
    assert " ".join(word.text for word in prediction.line_words(0)) == prediction.texts[0]
    for word, (_, box) in zip(words, truth):
        # back in the upright page's pixels, to compare with the ink boxes
        polygon = rotate_points_back(word.polygon, turn, image.shape[:2])
        covered, size = coverage(box, polygon)
        assert covered > 0.9, (word.text, covered)
        assert size < 3.0, (word.text, size)  # tight: not the whole line
    record = prediction.to_dict()
    assert [w["text"] for w in record["lines"][1]["words"]] == LINES[1].split()
    assert len(record["lines"][1]["words"][0]["polygon"]) == 4
