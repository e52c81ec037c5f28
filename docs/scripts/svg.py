"""A few SVG primitives for the documentation's pictures: boxes, text and lines,
written as plain text so that no plotting library is needed.

Text widths are estimated for a monospace font (0.6 em per character), which is
what every picture uses, so boxes fit their labels without measuring fonts.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
CHAR = 0.6  # width of one monospace character, in em


def text_width(text: str, size: float) -> float:
    """The width of ``text`` at font size ``size`` in a monospace font."""
    return len(text) * size * CHAR


class Drawing:
    """An SVG document built element by element; :meth:`render` gives its text."""

    def __init__(self, width: float, height: float, *, title: str) -> None:
        self.width = width
        self.height = height
        self.title = title
        self.parts: list[str] = []

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str,
        stroke: str = "none",
        rx: float = 4,
    ) -> None:
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="{rx}" '
            f'fill="{fill}" stroke="{stroke}"/>'
        )

    def line(
        self, x1: float, y1: float, x2: float, y2: float, *, stroke: str = "#888", dash: str = ""
    ) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}"{extra}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = 12,
        fill: str = "#222",
        anchor: str = "start",
        bold: bool = False,
    ) -> None:
        weight = ' font-weight="bold"' if bold else ""
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}"{weight}>{escape(content)}</text>'
        )

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" '
            f'height="{self.height:.0f}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
            f'font-family="{escape(FONT, {chr(39): "&apos;"})}" role="img">'
        )
        body = "\n".join(self.parts)
        background = '<rect width="100%" height="100%" fill="#fff"/>'
        return f"{head}\n<title>{escape(self.title)}</title>\n{background}\n{body}\n</svg>\n"
