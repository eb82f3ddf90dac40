"""QR codes of verify URLs (segno: pure Python, no image library needed)."""

import segno


def make(url: str) -> segno.QRCode:
    # Error correction M survives a crease or a stamp over a corner of a printed page.
    return segno.make_qr(url, error="m")


def svg_data_uri(url: str) -> str:
    """An SVG image as a data: URI (the CSP allows data: images, not inline script)."""
    return make(url).svg_data_uri(scale=4, border=2)


def modules(url: str) -> list[list[bool]]:
    """The dark/light modules, row by row, without the quiet zone."""
    return [[bool(m) for m in row] for row in make(url).matrix_iter(border=0)]
