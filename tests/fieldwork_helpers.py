"""Helpers for field-work tests: read a form's fields and hidden keys, make photos."""
import io
import os
import re
from html.parser import HTMLParser

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


class PostForms(HTMLParser):
    """The POST forms of a page: [(action, [[name, value], …])], with the values a browser sends
    (checked boxes only, a select's chosen option, no files, no disabled fields)."""

    def __init__(self):
        super().__init__()
        self.forms, self.actions, self._form, self._text, self._select = [], [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._form = []
                self.forms.append(self._form)
                self.actions.append(a.get("action"))
            return
        if self._form is None:
            return
        if tag == "option":
            if self._select is not None:
                value = a.get("value", "")
                if self._select["first"] is None:
                    self._select["first"] = value
                if "selected" in a:
                    self._select["chosen"] = value
            return
        if "name" not in a or "disabled" in a:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("file", "submit", "button"):
                return
            self._form.append([a["name"], a.get("value", "")])
        elif tag == "textarea":
            self._text = [a["name"], ""]
            self._form.append(self._text)
        elif tag == "select":
            self._select = {"name": a["name"], "first": None, "chosen": None}

    def handle_data(self, data):
        if self._text is not None:
            self._text[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._text = None
        elif tag == "select" and self._select is not None and self._form is not None:
            s = self._select
            self._form.append([s["name"], s["chosen"] if s["chosen"] is not None else (s["first"] or "")])
            self._select = None
        elif tag == "form":
            self._form = None


def post_forms(html: str) -> list[tuple[str | None, list[list[str]]]]:
    parser = PostForms()
    parser.feed(html)
    return list(zip(parser.actions, parser.forms))


def page_form(html: str) -> list[list[str]]:
    """The fields of the page's form that carries a form key."""
    parser = PostForms()
    parser.feed(html)
    keyed = [f for f in parser.forms if any(name == "form_key" for name, _ in f)]
    assert keyed, "the page has a form with a form key"
    return keyed[0]


def posted(fields, typed: dict) -> dict:
    """The browser's body: the page's fields with `typed` replacing (or adding) values."""
    data: dict[str, list] = {}
    for name, value in fields:
        if name in typed:
            continue
        data.setdefault(name, []).append(value)
    for name, value in typed.items():
        data[name] = value if isinstance(value, list) else [value]
    return data
