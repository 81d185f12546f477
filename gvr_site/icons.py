"""Draws the app's icons (favicon, home-screen and manifest icons) into static/icons.

The design is plain geometry, so it is drawn here rather than taken from anywhere: a dark blue
square, a white ring and an amber dot (the colour of the "Log a session" button). Run
`python -m gvr_site.icons` after changing it; the files it writes are committed.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

ICONS_DIR = Path(__file__).resolve().parent.parent / "static" / "icons"

BACKGROUND = (31, 58, 95)
RING = (255, 255, 255)
DOT = (255, 193, 7)

# In units of the icon's size: centre 0.5, ring radius and width, dot radius, corner radius.
RING_RADIUS = 0.30
RING_WIDTH = 0.075
DOT_RADIUS = 0.11
CORNER = 0.18

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="{CORNER * 100:g}" fill="rgb{BACKGROUND}"/>
<circle cx="50" cy="50" r="{RING_RADIUS * 100:g}" fill="none" stroke="rgb{RING}"
 stroke-width="{RING_WIDTH * 100:g}"/>
<circle cx="50" cy="50" r="{DOT_RADIUS * 100:g}" fill="rgb{DOT}"/>
</svg>
"""


def _coverage(distance: float, pixel: float) -> float:
    """How much of a pixel lies inside an edge `distance` away (negative: inside), smoothed
    over one pixel so the curves are not jagged."""
    return min(1.0, max(0.0, 0.5 - distance / pixel))


def _blend(under: tuple[float, ...], over: tuple[int, ...], alpha: float) -> tuple[float, ...]:
    return tuple(u + (o - u) * alpha for u, o in zip(under, over, strict=True))


def draw(size: int, *, maskable: bool = False) -> bytes:
    """The icon as RGBA PNG bytes. A maskable icon fills the square (the phone cuts its own
    shape) and keeps the drawing inside the middle 80 %."""
    pixel = 1.0 / size
    scale = 0.8 if maskable else 1.0
    rows = []
    for y in range(size):
        row = bytearray([0])  # PNG filter type: none
        for x in range(size):
            px, py = (x + 0.5) * pixel - 0.5, (y + 0.5) * pixel - 0.5
            if maskable:
                alpha = 1.0
            else:
                # Rounded square: distance to the rectangle shrunk by the corner radius.
                inner = 0.5 - CORNER
                dx, dy = max(abs(px) - inner, 0.0), max(abs(py) - inner, 0.0)
                alpha = _coverage(math.hypot(dx, dy) - CORNER, pixel)
            colour: tuple[float, ...] = BACKGROUND
            radius = math.hypot(px, py) / scale
            ring = abs(radius - RING_RADIUS) - RING_WIDTH / 2
            colour = _blend(colour, RING, _coverage(ring, pixel / scale))
            colour = _blend(colour, DOT, _coverage(radius - DOT_RADIUS, pixel / scale))
            row += bytes(round(c) for c in colour) + bytes([round(alpha * 255)])
        rows.append(bytes(row))
    return _png(size, size, b"".join(rows))


def _png(width: int, height: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    ICONS_DIR.mkdir(parents=True, exist_ok=True)
    (ICONS_DIR / "icon.svg").write_text(SVG)
    for name, size, maskable in (
        ("icon-32.png", 32, False),
        ("apple-touch-icon.png", 180, True),
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
    ):
        (ICONS_DIR / name).write_bytes(draw(size, maskable=maskable))


if __name__ == "__main__":
    main()
