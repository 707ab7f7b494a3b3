"""Draw the AgentGap icon (a tall "code" bar beside a short "agent" bar: the gap) and
write it in the sizes and formats the platforms need into resources/icons/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/make_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)


def draw(size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    margin = s * 0.06
    tile = QRectF(margin, margin, s - 2 * margin, s - 2 * margin)
    gradient = QLinearGradient(tile.topLeft(), tile.bottomRight())
    gradient.setColorAt(0.0, QColor("#1f2a44"))
    gradient.setColorAt(1.0, QColor("#0f172a"))
    path = QPainterPath()
    path.addRoundedRect(tile, s * 0.2, s * 0.2)
    p.fillPath(path, gradient)
    base = tile.bottom() - s * 0.18
    width = s * 0.2
    left = tile.left() + s * 0.2
    right = tile.right() - s * 0.2 - width
    tall = QRectF(left, tile.top() + s * 0.18, width, base - (tile.top() + s * 0.18))
    short = QRectF(right, base - s * 0.22, width, s * 0.22)
    radius = s * 0.04
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#60a5fa"))
    p.drawRoundedRect(tall, radius, radius)
    p.setBrush(QColor("#f59e0b"))
    p.drawRoundedRect(short, radius, radius)
    # the gap: a dashed line from the top of the tall bar across to the short one
    pen_color = QColor("#e2e8f0")
    p.setBrush(pen_color)
    dash = s * 0.05
    y = tall.top()
    x = tall.right() + s * 0.03
    while x + dash < short.right():
        p.drawRect(QRectF(x, y, dash, max(1.0, s * 0.018)))
        x += dash * 1.8
    p.end()
    return image


def main() -> int:
    QGuiApplication.instance() or QGuiApplication(sys.argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        draw(size).save(str(OUT / f"agentgap-{size}.png"))
    draw(256).save(str(OUT / "agentgap.png"))
    draw(256).save(str(OUT / "agentgap.ico"))
    draw(1024).save(str(OUT / "agentgap.icns"))
    print("\n".join(sorted(p.name for p in OUT.iterdir())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
