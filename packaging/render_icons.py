"""Render the app icon: ``render_icons.py SVG OUTDIR 16,32,...`` (run in the packaging venv).

Writes ``reverie-<size>.png`` for each size with Qt's SVG renderer (the one the running
app uses for its window icon), then ``reverie.ico`` (Windows) and ``reverie.icns``
(macOS) with Pillow.
"""

import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer


def main() -> int:
    svg, out, sizes = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    app = QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"render_icons: {svg} is not a valid SVG", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for size in (int(s) for s in sizes.split(",")):
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        if not image.save(str(out / f"reverie-{size}.png")):
            print(f"render_icons: could not write a {size}px PNG", file=sys.stderr)
            return 1
    del app
    big = Image.open(out / "reverie-1024.png")
    big.save(out / "reverie.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    big.save(out / "reverie.icns")
    print(f"render_icons: wrote {sizes} px PNGs, reverie.ico and reverie.icns to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
