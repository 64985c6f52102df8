"""Generate the example images in assets/ (deterministic; run: python scripts/make_assets.py).

All content is synthetic (drawn text, no photos), so the images can be shipped freely.
Uses DejaVu / Liberation fonts when installed (Debian: fonts-dejavu-core), else Pillow's
bundled font; the committed files were made with DejaVu.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def font(size: int, bold: bool = False, mono: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    names = (
        ["DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf", "LiberationMono-Regular.ttf"]
        if mono
        else ["DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", "LiberationSans-Regular.ttf"]
    )
    for name in names:
        for folder in ("", "/usr/share/fonts/truetype/dejavu/", "/usr/share/fonts/truetype/liberation/"):
            try:
                return ImageFont.truetype(folder + name, size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def paper_noise(image: Image.Image, rng: np.random.Generator, strength: float = 6.0) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float32)
    pixels += rng.normal(0.0, strength, pixels.shape[:2])[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def receipt(rng: np.random.Generator) -> Image.Image:
    width, height = 620, 1060
    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    title, body, small = font(40, bold=True, mono=True), font(26, mono=True), font(22, mono=True)
    y = 40
    for text, face in [("CORNER CAFE", title), ("12 Harbour Street", small), ("Tel 0123 456 789", small)]:
        w = draw.textlength(text, font=face)
        draw.text(((width - w) / 2, y), text, font=face, fill=(20, 20, 20))
        y += 58 if face is title else 36
    y += 20
    draw.text((40, y), "RECEIPT  #20417", font=body, fill=(20, 20, 20))
    y += 40
    draw.text((40, y), "2026-11-27   09:41", font=body, fill=(20, 20, 20))
    y += 50
    draw.line((40, y, width - 40, y), fill=(60, 60, 60), width=2)
    y += 24
    items = [("Cappuccino", "3.80"), ("Croissant", "2.60"), ("Orange juice", "4.20"), ("Bagel", "3.10"), ("Water", "1.50")]
    for name, price in items:
        draw.text((40, y), name, font=body, fill=(25, 25, 25))
        w = draw.textlength(price, font=body)
        draw.text((width - 40 - w, y), price, font=body, fill=(25, 25, 25))
        y += 44
    y += 6
    draw.line((40, y, width - 40, y), fill=(60, 60, 60), width=2)
    y += 24
    for name, price, face in [("SUBTOTAL", "15.20", body), ("TAX 8%", "1.22", body), ("TOTAL", "16.42", title)]:
        draw.text((40, y), name, font=face, fill=(15, 15, 15))
        w = draw.textlength(price, font=face)
        draw.text((width - 40 - w, y), price, font=face, fill=(15, 15, 15))
        y += 48 if face is body else 64
    y += 30
    for text in ["Paid by card", "THANK YOU"]:
        w = draw.textlength(text, font=body)
        draw.text(((width - w) / 2, y), text, font=body, fill=(20, 20, 20))
        y += 44
    return paper_noise(image, rng, 4.0)


PAGE_TITLE = "Quarterly Report"
PAGE_PARAGRAPHS = [
    "Sales grew in every region during the third quarter,",
    "led by strong demand for the new product line.",
    "Operating costs fell slightly thanks to lower",
    "shipping prices and a smaller inventory.",
    "",
    "Next steps",
    "Open two stores in the north before March.",
    "Hire five engineers for the support team.",
    "Review supplier contracts in January.",
]


SCAN_TITLE = "Delivery Note"
SCAN_PARAGRAPHS = [
    "Order 58213 was packed on Monday and left the",
    "warehouse on Tuesday morning by road freight.",
    "Please check every box against the list below",
    "and report missing items within seven days.",
    "",
    "Next steps",
    "Sign the note and keep a copy for your records.",
    "Return damaged goods in their original boxes.",
    "Questions: call the depot on 0800 555 0199.",
]


def document_page(
    rng: np.random.Generator,
    scale: float = 1.0,
    title: str = PAGE_TITLE,
    paragraphs: list[str] = PAGE_PARAGRAPHS,
) -> Image.Image:
    width, height = int(1240 * scale), int(1600 * scale)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    margin = int(110 * scale)
    y = int(120 * scale)
    draw.text((margin, y), title, font=font(int(64 * scale), bold=True), fill=(10, 10, 10))
    y += int(120 * scale)
    body = font(int(34 * scale))
    for line in paragraphs:
        if line == "Next steps":
            y += int(20 * scale)
            draw.text((margin, y), line, font=font(int(42 * scale), bold=True), fill=(10, 10, 10))
            y += int(72 * scale)
            continue
        if line:
            draw.text((margin, y), line, font=body, fill=(30, 30, 30))
        y += int(56 * scale)
    y += int(40 * scale)
    draw.text((margin, y), "Page 3 of 12", font=font(int(28 * scale)), fill=(90, 90, 90))
    return image


def street_sign(rng: np.random.Generator) -> Image.Image:
    """A sign on a textured wall, seen at an angle (perspective), slightly blurred like a photo."""
    sign = Image.new("RGB", (900, 420), (18, 92, 48))
    draw = ImageDraw.Draw(sign)
    draw.rectangle((14, 14, 885, 405), outline=(240, 240, 240), width=8)
    for text, y, size in [("MAIN STREET", 60, 110), ("City Centre  2 km", 230, 76)]:
        face = font(size, bold=True)
        w = draw.textlength(text, font=face)
        draw.text(((900 - w) / 2, y), text, font=face, fill=(245, 245, 245))
    width, height = 1280, 900
    gradient = np.linspace(120, 190, width, dtype=np.float32)[None, :, None]
    wall = np.broadcast_to(gradient, (height, width, 3)).copy()
    wall *= np.array([1.0, 0.93, 0.85], dtype=np.float32)
    wall += rng.normal(0, 10, (height, width, 1))
    background = Image.fromarray(np.clip(wall, 0, 255).astype(np.uint8))
    # Where the sign's corners land in the photo (top-left, top-right, bottom-right, bottom-left).
    corners = [(210, 180), (1080, 260), (1050, 650), (240, 700)]
    coefficients = _perspective_coefficients(corners, [(0, 0), (900, 0), (900, 420), (0, 420)])
    warped = sign.transform((width, height), Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC)
    mask = Image.new("L", (900, 420), 255).transform(
        (width, height), Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC
    )
    background.paste(warped, (0, 0), mask)
    return background.filter(ImageFilter.GaussianBlur(0.8))


def _perspective_coefficients(destination: list[tuple[float, float]], source: list[tuple[float, float]]) -> list[float]:
    """Coefficients mapping output (destination) points to input (source) points, as Pillow wants."""
    rows = []
    for (x, y), (u, v) in zip(destination, source):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    targets = np.array([coordinate for point in source for coordinate in point], dtype=np.float64)
    return np.linalg.solve(np.array(rows, dtype=np.float64), targets).tolist()


def rotated_page(rng: np.random.Generator) -> Image.Image:
    """A short memo photographed upside down (rotated 180 degrees) on a darker desk."""
    page = Image.new("RGB", (1000, 700), (252, 252, 250))
    draw = ImageDraw.Draw(page)
    lines = ["MEMO", "Meeting moved to Friday at 10:00", "Room 4B, second floor", "Bring the budget figures"]
    y = 70
    for index, line in enumerate(lines):
        face = font(60, bold=True) if index == 0 else font(40)
        draw.text((80, y), line, font=face, fill=(20, 20, 20))
        y += 130 if index == 0 else 90
    page = paper_noise(page, rng, 3.0).rotate(180)
    desk = Image.new("RGB", (1160, 860), (96, 78, 60))
    desk.paste(page, (80, 80))
    return desk


def large_scan(rng: np.random.Generator) -> Image.Image:
    """A 4600 px tall page: tests downscaling for display and polygons mapping back."""
    return document_page(rng, scale=2.875, title=SCAN_TITLE, paragraphs=SCAN_PARAGRAPHS)  # 3565 x 4600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ASSETS_DIR)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261127)
    receipt(rng).save(out / "receipt.jpg", quality=85)
    document_page(rng).convert("L").save(out / "document_page.png", optimize=True)
    street_sign(rng).save(out / "street_sign.jpg", quality=88)
    rotated_page(rng).save(out / "rotated_page.jpg", quality=85)
    large_scan(rng).convert("L").save(out / "large_scan.jpg", quality=75, optimize=True)
    for path in sorted(out.iterdir()):
        with Image.open(path) as image:
            print(f"{path.name}: {image.width}x{image.height} {image.mode}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
