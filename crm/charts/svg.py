"""Inline SVG bar and line charts, drawn on the server.

No JavaScript, no chart library, no inline ``style=`` and no ``<style>`` element, so
the output passes the strict CSP in crm/web/headers.py (``style-src 'self'``).  Colours,
strokes and font sizes are SVG presentation attributes; the font family and the
hover/focus effects come from the ``.chart`` rules at the end of crm/static/app.css.

Public API (all return ``markupsafe.Markup`` holding one ``<svg>`` element)::

    bar_chart(points, *, title, unit="", href=None, partial=None, height=180, width=600, color=BLUE)
    line_chart(series, *, title, unit="", partial=None, height=180, width=600)
    nice_max(value) -> int | float
    fmt_num(value) -> str

``points`` is a list of ``(label, value)``; labels shaped ``YYYY-MM`` are shown as
"1月" … "12月" on the x axis, with the year under the first month and under each
month where the year changes.  Other labels are shown as given (shortened to 6
characters on the axis; the full text is in the tooltip).  ``partial`` names the label of a
period still running (the current month): it is drawn paler and dashed, marked 进行中 over it,
and named so in the tooltip and the description, so a barely started month does not read as a
collapse.

A chart without links is one image (``role="img"`` with the figures in its ``aria-label``); a
bar chart with ``href`` is a group of links (``role="group"``), each link named by its month
and value, since an image cannot hold focusable parts.

The drawing is laid out in a fixed viewBox (``width`` × ``height`` user units) and
scales to 100 % of its container's width; text scales with it, so ``width=600``
suits a full-width card on a 768–1024 px tablet.  Pass a smaller ``width`` (e.g. 420)
for a half-width card so the labels stay readable.

**nice_max rule.**  The y axis runs from 0 to ``nice_max(largest value)``: the smallest
number of the form m × 10^n with m in (1, 2, 2.5, 5, 10) that is ≥ the value, with a
floor of 1 (so 0, negatives, NaN and anything ≤ 1 give 1).  Examples: 0→1, 1→1,
7→10, 12→20, 21→25, 95→100, 101→200, 12345→20000.

**Ticks.**  The axis from 0 to the top is cut into 4, else 2, else 5 equal steps – the
first whose step is a round number (1, 2, 2.5 or 5 × 10^n) and, for whole-number
data, a whole number (no "0.5 场"); for fractional data a multiple of 0.1.  That gives
3–5 ticks (0…20 by 5, 0…100 by 25, 0…10 by 5, 0…50 by 25), except tops of 5/25/250…
whose only round split is into fifths (6 ticks: 0,1,2,3,4,5), and a whole-number top
of 1 (ticks 0 and 1 only).

Values: ``None`` and non-finite values count as 0; negative values are drawn as 0 but
reported as given.  Numbers use thousands separators and at most one decimal.
"""
import math
import re
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

BLUE, GREEN, ORANGE = "#0a58ca", "#146c43", "#fd7e14"
SERIES_COLORS = (BLUE, GREEN, ORANGE, "#6f42c1", "#b02a37")
TEXT_COLOR = "#495057"
MUTED_COLOR = "#565e64"
PARTIAL_NOTE = "进行中"
GRID_COLOR = "#e9ecef"
AXIS_COLOR = "#adb5bd"
EMPTY_NOTE = "暂无数据"

FONT = 12          # axis labels, in viewBox units
FONT_SMALL = 11    # value labels, year line, unit, legend
TOP = 26           # room for the unit/legend line and the value label over the tallest bar
RIGHT = 10
MIN_HEIGHT = 100

_NICE_STEPS = (1, 2, 2.5, 5, 10)
_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


# ---------------------------------------------------------------- numbers

def nice_max(value):
    """Smallest m × 10^n (m in 1, 2, 2.5, 5, 10) that is >= value; at least 1."""
    try:
        v = float(value or 0)
    except (TypeError, ValueError):
        v = 0.0
    if not math.isfinite(v) or v <= 1:
        return 1
    base = 10 ** math.floor(math.log10(v))
    for m in _NICE_STEPS:
        candidate = m * base
        if candidate >= v * (1 - 1e-12):
            return int(candidate) if float(candidate).is_integer() else candidate
    return 10 * base  # unreachable: m = 10 always fits


def fmt_num(value):
    """12345 → '12,345'; 2.25 → '2.3'; 3.0 → '3'; None → '–'."""
    if value is None:
        return "–"
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    if not d.is_finite():
        return str(value)
    d = d.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{d:,}"


def _clean(value):
    """A plottable number: None, non-numbers, NaN and infinities count as 0."""
    if value is None:
        return 0
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0
    if not math.isfinite(v):
        return 0
    return int(v) if v.is_integer() else v


def _ticks(top, integral):
    grain = Decimal(1) if integral else Decimal("0.1")
    dtop = Decimal(str(top))
    for parts in (4, 2, 5):
        step = dtop / parts
        mantissa = step.scaleb(-step.adjusted())
        if step % grain == 0 and mantissa in (1, 2, Decimal("2.5"), 5):
            return [_num(step * i) for i in range(parts + 1)]
    return [0, top]


def _num(d):
    return int(d) if d == d.to_integral_value() else float(d)


def _r(x):
    """Coordinates with at most 2 decimals, no trailing zeros."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


# ---------------------------------------------------------------- text

def _text_width(text, size):
    """Rough advance width of a string in the CJK UI font."""
    w = 0.0
    for ch in text:
        if ord(ch) >= 0x2E80:
            w += 1.0
        elif ch in ",.:;'|!il ":
            w += 0.32
        else:
            w += 0.6
    return w * size


def _month(label):
    m = _MONTH_RE.match(label)
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    return None


def _long_label(label, partial=None):
    ym = _month(label)
    text = f"{ym[0]}年{ym[1]}月" if ym else label
    return f"{text}（{PARTIAL_NOTE}）" if partial is not None and label == partial else text


def _short_label(label):
    ym = _month(label)
    if ym:
        return f"{ym[1]}月"
    return label if len(label) <= 6 else label[:5] + "…"


def _with_unit(value, unit):
    return "–" if value is None else f"{fmt_num(value)}{unit}"


def _span(labels):
    if labels and all(_month(lb) for lb in labels):
        return f"近{len(labels)}个月"
    return f"共{len(labels)}项"


def _attrs(**kw):
    out = []
    for key, val in kw.items():
        if val is None:
            continue
        out.append(f' {key.rstrip("_").replace("_", "-")}="{escape(val)}"')
    return "".join(out)


def _text(x, y, content, *, size=FONT, fill=MUTED_COLOR, anchor="middle", cls=None):
    return (f"<text{_attrs(class_=cls, x=_r(x), y=_r(y), font_size=size, fill=fill, text_anchor=anchor)}>"
            f"{escape(content)}</text>")


# ---------------------------------------------------------------- frame

class _Frame:
    """Axis, grid and labels shared by both chart kinds."""

    def __init__(self, labels, top, integral, *, width, height, unit):
        self.labels = labels
        self.n = len(labels)
        self.top = top
        self.unit = unit
        self.width = width
        self.height = max(int(height), MIN_HEIGHT)
        self.ticks = _ticks(top, integral)
        tick_w = max(_text_width(fmt_num(t), FONT) for t in self.ticks)
        self.x0 = max(24.0, tick_w + 10)
        self.x1 = width - RIGHT
        self.slot = (self.x1 - self.x0) / self.n if self.n else 0
        self.months = bool(self.n) and all(_month(lb) for lb in labels)
        self.shown = self._shown()
        self.years = {}
        prev = None
        for i in self.shown if self.months else ():
            year = _month(labels[i])[0]
            if year != prev:
                self.years[i] = year  # under the first month shown and wherever the year changes
            prev = year
        self.y0 = float(TOP)
        self.y1 = self.height - (36 if self.months else 24)

    @property
    def plot_h(self):
        return self.y1 - self.y0

    def cx(self, i):
        return self.x0 + self.slot * (i + 0.5)

    def y(self, value):
        return self.y1 - max(value, 0) / self.top * self.plot_h

    def _shown(self):
        """Indexes whose x label is drawn: every step-th, counted back from the latest,
        with the step chosen so neighbouring labels never overlap."""
        if not self.n:
            return []
        widest = max(_text_width(_short_label(lb), FONT) for lb in self.labels)
        if self.months:
            widest = max(widest, _text_width("0000", FONT_SMALL))
        step = max(1, math.ceil((widest + 6) / self.slot))
        return [i for i in range(self.n) if (self.n - 1 - i) % step == 0]

    def parts(self):
        out = []
        if self.unit:
            out.append(_text(4, 13, f"单位：{self.unit}", size=FONT_SMALL, anchor="start", cls="chart-unit"))
        out.append('<g class="chart-grid">')
        for t in self.ticks:
            y = self.y(t)
            if t:
                out.append(f'<line{_attrs(x1=_r(self.x0), x2=_r(self.x1), y1=_r(y), y2=_r(y))}'
                           f' stroke="{GRID_COLOR}" stroke-width="1"/>')
            out.append(_text(self.x0 - 6, y + FONT * 0.35, fmt_num(t), anchor="end", cls="chart-tick"))
        out.append(f'<line{_attrs(x1=_r(self.x0), x2=_r(self.x1), y1=_r(self.y1), y2=_r(self.y1))}'
                   f' stroke="{AXIS_COLOR}" stroke-width="1"/>')
        out.append("</g>")
        if self.n:
            out.append('<g class="chart-xlabels">')
            for i in self.shown:
                x = self.cx(i)
                out.append(_text(x, self.y1 + 17, _short_label(self.labels[i]), cls="chart-xlabel"))
                if i in self.years:
                    out.append(_text(x, self.y1 + 31, str(self.years[i]), size=FONT_SMALL, cls="chart-year"))
            out.append("</g>")
        return out

    def empty_note(self):
        return _text((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2 + 5, EMPTY_NOTE,
                     size=13, cls="chart-empty")


def _svg(frame, title, aria, kind, body, role="img"):
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}"'
            f' viewBox="0 0 {_r(frame.width)} {_r(frame.height)}" width="100%"'
            f' preserveAspectRatio="xMidYMid meet" role="{role}" aria-label="{escape(aria)}">'
            f"<title>{escape(title)}</title>")
    return Markup(head + "".join(body) + "</svg>")


# ---------------------------------------------------------------- charts

def bar_chart(points, *, title, unit="", href=None, partial=None, height=180, width=600, color=BLUE):
    """Vertical bars, one per (label, value); ``href(label)`` makes each column a link;
    ``partial``: the label of the period still running."""
    points = [(str(label), value) for label, value in (points or [])]
    labels = [lb for lb, _ in points]
    values = [_clean(v) for _, v in points]
    peak = max(values, default=0)
    empty = peak <= 0
    integral = all(float(v).is_integer() for v in values)
    frame = _Frame(labels, nice_max(peak), integral, width=width, height=height, unit=unit)

    if empty:
        aria = f"{title}，{_span(labels)}：{EMPTY_NOTE}" if not points else \
            f"{title}，{_span(labels)}：均为0{unit}，{EMPTY_NOTE}"
    else:
        aria = f"{title}，{_span(labels)}：" + "，".join(
            f"{_long_label(lb, partial)} {_with_unit(v, unit)}" for lb, v in points)
    if href is not None:
        aria = f"{title}，{_span(labels)}，点月份查看明细"

    body = frame.parts()
    bar_w = min(frame.slot * 0.62, 44) if frame.n else 0
    value_texts = [fmt_num(v) for _, v in points]
    show_values = (not empty and frame.n <= 12
                   and max((_text_width(t, FONT_SMALL) for t in value_texts), default=0) <= frame.slot - 2)
    body.append('<g class="chart-bars">')
    for i, (label, raw) in enumerate(points):
        value = values[i]
        cx = frame.cx(i)
        y = frame.y(value)
        running = partial is not None and label == partial
        tip = f"{_long_label(label, partial)}：{_with_unit(raw, unit)}"
        if href is not None:
            body.append(f'<a class="bar-col bar-link"{_attrs(href=href(label))}>')
        else:
            body.append('<g class="bar-col">')
        body.append(f"<title>{escape(tip)}</title>")
        # Invisible full-column target: a tap anywhere in the month (label included) counts.
        body.append(f'<rect class="bar-hit"{_attrs(x=_r(cx - frame.slot / 2), y=_r(frame.y0 - 16), width=_r(frame.slot), height=_r(frame.height - frame.y0 + 16))}'
                    f' fill="{escape(color)}" fill-opacity="0"/>')
        extra = f' fill-opacity="0.4" stroke="{escape(color)}" stroke-dasharray="3 2"' if running else ""
        body.append(f'<rect class="bar{" bar-partial" if running else ""}"{_attrs(x=_r(cx - bar_w / 2), y=_r(y), width=_r(bar_w), height=_r(frame.y1 - y), fill=color)}'
                    f' rx="2"{extra}><title>{escape(tip)}</title></rect>')
        if show_values:
            body.append(_text(cx, y - 5, value_texts[i], size=FONT_SMALL, fill=TEXT_COLOR, cls="bar-value"))
        if running:
            note_y = (y - 5 - FONT_SMALL - 2) if show_values else (y - 5)
            body.append(_text(cx, max(note_y, frame.y0 - 2), PARTIAL_NOTE, size=FONT_SMALL - 1,
                              fill=MUTED_COLOR, cls="bar-partial-note"))
        body.append("</a>" if href is not None else "</g>")
    body.append("</g>")
    if empty:
        body.append(frame.empty_note())
    return _svg(frame, title, aria, "bar", body, role="group" if href is not None and points else "img")


def line_chart(series, *, title, unit="", partial=None, height=180, width=600):
    """Up to 3 lines sharing the x labels: ``series`` = [(name, [(label, value), ...]), ...];
    ``partial``: the label of the period still running (its segment dashed, its dots hollow)."""
    series = [(str(name), [(str(lb), v) for lb, v in (pts or [])]) for name, pts in (series or [])]
    labels = []
    for _, pts in series:
        for lb, _v in pts:
            if lb not in labels:
                labels.append(lb)
    if labels and all(_month(lb) for lb in labels):
        labels.sort(key=_month)  # a month missing from the first series still lands in place
    index = {lb: i for i, lb in enumerate(labels)}
    all_values = [_clean(v) for _, pts in series for _, v in pts]
    peak = max(all_values, default=0)
    empty = peak <= 0
    integral = all(float(v).is_integer() for v in all_values)
    frame = _Frame(labels, nice_max(peak), integral, width=width, height=height, unit=unit)

    span = _span(labels)
    if empty:
        aria = f"{title}，{span}：{EMPTY_NOTE}"
    else:
        aria = f"{title}，{span}：" + "；".join(
            f"{name}：" + "，".join(f"{_long_label(lb, partial)} {_with_unit(v, unit)}" for lb, v in pts)
            for name, pts in series)

    body = frame.parts()
    body.append(_legend(frame, [name for name, _ in series]))
    for k, (name, pts) in enumerate(series):
        color = SERIES_COLORS[k % len(SERIES_COLORS)]
        coords = sorted((index[lb], lb, raw) for lb, raw in pts)
        body.append(f'<g class="chart-series"{_attrs(stroke=color)}>')
        # consecutive x positions form one polyline; a missing month breaks the line
        runs, run = [], []
        for i, _lb, raw in coords:
            if run and i != run[-1][0] + 1:
                runs.append(run)
                run = []
            run.append((i, frame.y(_clean(raw))))
        if run:
            runs.append(run)
        last = index.get(partial) if partial is not None else None
        for run in runs:
            if last is not None and len(run) >= 2 and run[-1][0] == last:
                run, tail = run[:-1], run[-2:]  # the running month's segment, dashed
                body.append(f'<polyline class="line line-partial"{_attrs(points=" ".join(f"{_r(frame.cx(i))},{_r(y)}" for i, y in tail))}'
                            f' fill="none" stroke-width="2" stroke-dasharray="4 3" stroke-linecap="round"/>')
            if len(run) < 2:
                continue  # a lone point is drawn by its dot
            pts_attr = " ".join(f"{_r(frame.cx(i))},{_r(y)}" for i, y in run)
            body.append(f'<polyline class="line"{_attrs(points=pts_attr)} fill="none"'
                        f' stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>')
        for i, lb, raw in coords:
            tip = f"{name} {_long_label(lb, partial)}：{_with_unit(raw, unit)}"
            running = partial is not None and lb == partial
            body.append(f'<circle class="dot{" dot-partial" if running else ""}"{_attrs(cx=_r(frame.cx(i)), cy=_r(frame.y(_clean(raw))), fill="#fff" if running else color, stroke=color if running else "#fff")}'
                        f' r="3.5" stroke-width="1.5"><title>{escape(tip)}</title></circle>')
        body.append("</g>")
    if partial is not None and partial in index and not empty:
        i = index[partial]
        body.append(_text(frame.cx(i), frame.y0 - 2, PARTIAL_NOTE, size=FONT_SMALL - 1, fill=MUTED_COLOR,
                          cls="line-partial-note"))
    if empty:
        body.append(frame.empty_note())
    return _svg(frame, title, aria, "line", body)


def _legend(frame, names):
    if not names:
        return ""
    shown = [n if len(n) <= 10 else n[:9] + "…" for n in names]
    widths = [22 + _text_width(n, FONT_SMALL) for n in shown]
    total = sum(widths) + 12 * (len(shown) - 1)
    left_limit = 4 + (_text_width(f"单位：{frame.unit}", FONT_SMALL) + 16 if frame.unit else 0)
    x = max(frame.x1 - total, left_limit)
    out = ['<g class="chart-legend">']
    for k, (name, w) in enumerate(zip(shown, widths)):
        color = SERIES_COLORS[k % len(SERIES_COLORS)]
        out.append(f'<line{_attrs(x1=_r(x), x2=_r(x + 16), stroke=color)} y1="9" y2="9" stroke-width="3"'
                   f' stroke-linecap="round"/>')
        out.append(_text(x + 22, 13, name, size=FONT_SMALL, fill=TEXT_COLOR, anchor="start", cls="chart-legend-name"))
        x += w + 12
    out.append("</g>")
    return "".join(out)
