"""Helpers for field-work tests: read a form's hidden keys, make photos."""
import io
import os
import re

from PIL import Image


def form_keys(client, path):
    """(csrf token, idempotency key, version) from a form page, as a browser would hold them."""
    html = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    key = re.search(r'name="form_key" type="hidden" value="([^"]*)"', html).group(1)
    version = re.search(r'name="version" type="hidden" value="([^"]*)"', html)
    return token, key, version.group(1) if version else ""


def jpeg(size=(800, 600), color="red", exif=None) -> io.BytesIO:
    buf = io.BytesIO()
    image = Image.new("RGB", size, color)
    if exif is not None:
        image.save(buf, "JPEG", exif=exif)
    else:
        image.save(buf, "JPEG")
    buf.seek(0)
    return buf


def big_png(megabytes=12) -> io.BytesIO:
    """A real PNG of random noise (incompressible), a little over `megabytes` MB."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 16
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=0)
    buf.seek(0)
    return buf
