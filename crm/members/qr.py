"""The QR code of a sign-up link, drawn on the server (segno) as inline SVG: nothing is fetched."""
import segno


def svg(url: str, title: str, scale: int = 8) -> str:
    return segno.make(url, error="m").svg_inline(scale=scale, border=2, omitsize=True, title=title)
