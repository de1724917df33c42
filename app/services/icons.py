"""The app icon, drawn with Pillow: a white location pin with a check mark on Fieldline blue."""
from pathlib import Path

from PIL import Image, ImageDraw

BRAND = (11, 79, 108, 255)
WHITE = (255, 255, 255, 255)


def draw_icon(size: int, maskable: bool = False) -> Image.Image:
    image = Image.new("RGBA", (size, size), BRAND if maskable else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if not maskable:
        draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=BRAND)
    # Maskable icons keep their symbol inside the central 80% safe zone.
    scale = 0.6 if maskable else 0.75
    s = size * scale
    cx, top = size / 2, (size - s) / 2
    r = s * 0.34
    cy = top + r + s * 0.04
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=WHITE)
    draw.polygon([(cx - r * 0.82, cy + r * 0.55), (cx + r * 0.82, cy + r * 0.55), (cx, top + s * 0.98)], fill=WHITE)
    w = max(2, int(s * 0.07))
    draw.line([(cx - r * 0.45, cy), (cx - r * 0.1, cy + r * 0.35), (cx + r * 0.5, cy - r * 0.35)],
              fill=BRAND, width=w, joint="curve")
    return image


def write_icons(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, size, maskable in (("icon-192.png", 192, False), ("icon-512.png", 512, False),
                                 ("icon-maskable-512.png", 512, True)):
        path = folder / name
        draw_icon(size, maskable).save(path, optimize=True)
        written.append(path)
    return written
