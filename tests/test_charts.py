"""Server-drawn SVG charts (crm/charts/svg.py): structure, geometry, escaping, CSP safety."""
import math
import re
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from crm.charts import bar_chart, fmt_num, line_chart, nice_max
from crm.charts.svg import BLUE, GREEN

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = ["2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10",
          "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04"]


def parse(markup):
    assert isinstance(markup, Markup)
    root = ET.fromstring(str(markup))
    assert root.tag == f"{SVG}svg"
    return root


def by_class(root, tag, cls):
    return [el for el in root.iter(f"{SVG}{tag}") if cls in (el.get("class") or "").split()]


def texts(root, cls):
    return ["".join(el.itertext()) for el in by_class(root, "text", cls)]


def months(values):
    return list(zip(MONTHS, values))


# ---------------------------------------------------------------- nice_max / numbers

@pytest.mark.parametrize("value, expected", [
    (0, 1), (None, 1), (-5, 1), (float("nan"), 1), (0.4, 1), (1, 1),
    (1.5, 2), (2, 2), (2.2, 2.5), (3, 5), (7, 10), (10, 10), (12, 20), (21, 25),
    (26, 50), (95, 100), (100, 100), (101, 200), (240, 250), (999, 1000), (12345, 20000),
])
def test_nice_max_rule(value, expected):
    """Smallest m × 10^n with m in 1, 2, 2.5, 5, 10 that is >= value; floor 1."""
    assert nice_max(value) == expected


def test_fmt_num():
    assert fmt_num(0) == "0"
    assert fmt_num(12345) == "12,345"
    assert fmt_num(1234567) == "1,234,567"
    assert fmt_num(3.0) == "3"
    assert fmt_num(2.25) == "2.3"
    assert fmt_num(1234.56) == "1,234.6"
    assert fmt_num(None) == "–"


# ---------------------------------------------------------------- bar chart

def test_bar_chart_is_one_responsive_svg():
    root = parse(bar_chart(months([4, 7, 0, 2, 9, 1, 3, 5, 6, 8, 2, 4]), title="沟通会场次", unit="场"))
    assert re.fullmatch(r"0 0 \d+ \d+", root.get("viewBox"))
    assert root.get("width") == "100%"
    assert root.get("preserveAspectRatio")
    assert root.get("role") == "img"
    assert "chart" in root.get("class").split()
    assert root[0].tag == f"{SVG}title" and root[0].text == "沟通会场次"


@pytest.mark.parametrize("n", [0, 1, 5, 12, 24])
def test_one_bar_per_point(n):
    points = [(f"{2024 + i // 12}-{i % 12 + 1:02d}", i + 1) for i in range(n)]
    root = parse(bar_chart(points, title="走访"))
    assert len(by_class(root, "rect", "bar")) == n


def test_bar_heights_proportional_and_zero_is_flat():
    root = parse(bar_chart([("2026-01", 5), ("2026-02", 10), ("2026-03", 0), ("2026-04", 5)], title="t"))
    bars = by_class(root, "rect", "bar")
    h = [float(b.get("height")) for b in bars]
    assert h[0] > 0
    assert abs(h[1] - 2 * h[0]) <= 0.5
    assert h[2] == 0
    assert h[3] == h[0]
    # all bars stand on the same baseline
    bottoms = {round(float(b.get("y")) + float(b.get("height")), 2) for b in bars}
    assert len(bottoms) == 1


def test_every_bar_has_a_tooltip_with_exact_value():
    root = parse(bar_chart([("2026-01", 12345), ("2026-02", 2.25)], title="t", unit="人"))
    tips = ["".join(b.find(f"{SVG}title").itertext()) for b in by_class(root, "rect", "bar")]
    assert tips == ["2026年1月：12,345人", "2026年2月：2.3人"]


def test_y_axis_ticks_run_from_zero_to_nice_max():
    root = parse(bar_chart(months([4, 7, 12, 2, 9, 1, 3, 5, 6, 8, 2, 4]), title="t"))
    assert texts(root, "chart-tick") == ["0", "5", "10", "15", "20"]
    # largest tick = nice_max(12345); thousands separators; 3–5 ticks
    root = parse(bar_chart(months([12345, 0, 300] + [1] * 9), title="t"))
    ticks = texts(root, "chart-tick")
    assert ticks[0] == "0" and ticks[-1] == "20,000" and 3 <= len(ticks) <= 5


def test_whole_number_data_never_gets_fractional_ticks():
    for peak in (1, 2, 3, 5, 7, 10, 24, 50):
        ticks = texts(parse(bar_chart([("2026-01", peak)], title="t")), "chart-tick")
        assert all("." not in t for t in ticks), (peak, ticks)
        assert ticks[0] == "0" and ticks[-1] == fmt_num(nice_max(peak))
        assert 2 <= len(ticks) <= 6


def test_month_labels_are_shortened_with_year_line():
    root = parse(bar_chart(months([1] * 12), title="t"))
    assert texts(root, "chart-xlabel") == ["5月", "6月", "7月", "8月", "9月", "10月", "11月",
                                           "12月", "1月", "2月", "3月", "4月"]
    assert texts(root, "chart-year") == ["2025", "2026"]


def test_many_labels_are_thinned_without_overlap():
    points = [(f"{2024 + (i + 4) // 12}-{(i + 4) % 12 + 1:02d}", i) for i in range(24)]
    root = parse(bar_chart(points, title="t"))
    labels = by_class(root, "text", "chart-xlabel")
    assert 4 <= len(labels) < 24
    assert "".join(labels[-1].itertext()) == "4月"  # the latest month is always labelled
    xs = [float(el.get("x")) for el in labels]
    assert min(b - a for a, b in zip(xs, xs[1:])) >= 30


def test_value_labels_only_up_to_twelve_bars():
    root = parse(bar_chart(months([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]), title="t"))
    assert texts(root, "bar-value") == ["3", "1", "4", "1", "5", "9", "2", "6", "5", "3", "5", "8"]
    points = [(f"2025-{m:02d}", m) for m in range(1, 13)] + [("2026-01", 1)]
    assert texts(parse(bar_chart(points, title="t")), "bar-value") == []


def test_text_is_escaped():
    markup = bar_chart([("<b>x</b>", 3), ("A&B", 4)], title='<script>alert("x")</script>&',
                       unit="<i>", href=lambda label: f"/list?m={label}&q=\"")
    root = parse(markup)
    tags = {el.tag for el in root.iter()}
    assert f"{SVG}b" not in tags and f"{SVG}i" not in tags and f"{SVG}script" not in tags
    assert "<script" not in markup and "<b>" not in markup
    assert root[0].text == '<script>alert("x")</script>&'
    tips = ["".join(b.find(f"{SVG}title").itertext()) for b in by_class(root, "rect", "bar")]
    assert tips == ["<b>x</b>：3<i>", "A&B：4<i>"]
    assert [a.get("href") for a in root.iter(f"{SVG}a")] == ['/list?m=<b>x</b>&q="', '/list?m=A&B&q="']


def test_links_only_with_href():
    points = months([4, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert list(parse(bar_chart(points, title="t")).iter(f"{SVG}a")) == []
    root = parse(bar_chart(points, title="t", href=lambda m: f"/meetings/?month={m}&view=list"))
    links = list(root.iter(f"{SVG}a"))
    assert [a.get("href") for a in links] == [f"/meetings/?month={m}&view=list" for m in MONTHS]
    # each link wraps its bar, so a tap on the month opens the list behind it
    assert all(len(by_class(a, "rect", "bar")) == 1 for a in links)


def test_aria_label_lists_every_value():
    values = [4, 7, 0, 12345, 9, 1, 3, 5, 6, 8, 2, 2.5]
    label = parse(bar_chart(months(values), title="沟通会场次", unit="场")).get("aria-label")
    assert label.startswith("沟通会场次，近12个月：2025年5月 4场，2025年6月 7场")
    for v in values:
        assert f" {fmt_num(v)}场" in label
    assert "12,345场" in label


@pytest.mark.parametrize("points", [[], months([0] * 12), [("2026-04", 0)], [("2026-04", None)]])
def test_empty_and_all_zero_bar_chart(points):
    markup = bar_chart(points, title="培训场次", unit="场")
    root = parse(markup)
    assert "暂无数据" in texts(root, "chart-empty")
    assert "暂无数据" in root.get("aria-label")
    assert len(by_class(root, "rect", "bar")) == len(points)
    assert all(float(b.get("height")) == 0 for b in by_class(root, "rect", "bar"))
    assert texts(root, "chart-tick")[0] == "0"  # the axis is still drawn
    for attr in ("x", "y", "width", "height"):
        assert all(math.isfinite(float(el.get(attr))) for el in root.iter(f"{SVG}rect"))


# ---------------------------------------------------------------- line chart

def test_line_chart_two_series():
    root = parse(line_chart([("新提交需求", months([4, 6, 10, 3, 12, 7, 9, 5, 6, 2, 11, 14])),
                             ("已办结", months([2, 5, 7, 3, 8, 6, 8, 4, 5, 2, 7, 10]))],
                            title="需求提交与办结", unit="件"))
    lines = by_class(root, "polyline", "line")
    assert len(lines) == 2
    assert all(len(pl.get("points").split()) == 12 for pl in lines)
    strokes = [g.get("stroke") for g in by_class(root, "g", "chart-series")]
    assert strokes == [BLUE, GREEN]
    assert texts(root, "chart-legend-name") == ["新提交需求", "已办结"]
    dots = by_class(root, "circle", "dot")
    assert len(dots) == 24
    assert all(d.find(f"{SVG}title") is not None for d in dots)
    aria = root.get("aria-label")
    assert aria.startswith("需求提交与办结，近12个月：新提交需求：2025年5月 4件")
    assert "已办结：2025年5月 2件" in aria
    assert texts(root, "chart-tick") == ["0", "5", "10", "15", "20"]


def test_line_points_are_proportional():
    root = parse(line_chart([("a", [("2026-01", 0), ("2026-02", 5), ("2026-03", 10)])], title="t"))
    ys = [float(d.get("cy")) for d in by_class(root, "circle", "dot")]
    base = ys[0]
    assert abs((base - ys[2]) - 2 * (base - ys[1])) <= 0.5


def test_missing_month_breaks_the_line_and_months_stay_in_order():
    root = parse(line_chart([("a", [("2026-01", 1), ("2026-02", 2), ("2026-04", 3), ("2026-05", 4)]),
                             ("b", [("2026-01", 1), ("2026-03", 2), ("2026-04", 3), ("2026-05", 1)])], title="t"))
    assert texts(root, "chart-xlabel") == ["1月", "2月", "3月", "4月", "5月"]
    a, b = by_class(root, "g", "chart-series")
    assert len(by_class(a, "polyline", "line")) == 2  # 1–2月 and 4–5月
    assert len(by_class(b, "polyline", "line")) == 1  # 3–5月; a lone 1月 is just a dot
    assert len(by_class(a, "circle", "dot")) == len(by_class(b, "circle", "dot")) == 4


@pytest.mark.parametrize("series", [[], [("甲", [])], [("甲", months([0] * 12)), ("乙", months([0] * 12))]])
def test_empty_and_all_zero_line_chart(series):
    root = parse(line_chart(series, title="空"))
    assert "暂无数据" in texts(root, "chart-empty")
    assert "暂无数据" in root.get("aria-label")


# ---------------------------------------------------------------- CSP

@pytest.mark.parametrize("markup", [
    bar_chart(months([4, 7, 0, 2, 9, 1, 3, 5, 6, 8, 2, 4]), title="t", unit="场", href=lambda m: f"/x/{m}"),
    bar_chart([], title="t"),
    line_chart([("a", months([1] * 12)), ("b", months([2] * 12)), ("c", months([3] * 12))], title="t", unit="次"),
    line_chart([], title="t"),
])
def test_no_inline_style_or_script(markup):
    root = parse(markup)
    assert "style=" not in markup and "<script" not in markup.lower()
    for el in root.iter():
        assert el.tag not in (f"{SVG}style", f"{SVG}script", f"{SVG}foreignObject")
        assert "style" not in el.attrib
        assert not any(k.startswith("on") for k in el.attrib)


# ---------------------------------------------------------------- accessibility, running month

def test_a_chart_of_links_is_a_group_not_an_image():
    """An image cannot hold focusable parts (axe: nested-interactive): linked bars are a group
    of links, each named by its <title> (month and value); a chart without links stays an image."""
    linked = parse(bar_chart(months([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), title="走访次数", unit="次",
                             href=lambda m: f"/v?m={m}"))
    assert linked.get("role") == "group" and linked.get("aria-label").startswith("走访次数")
    links = list(linked.iter(f"{SVG}a"))
    assert len(links) == 12
    assert [a.find(f"{SVG}title").text for a in links][-1] == "2026年4月：12次"
    assert all(a.get("aria-label") is None for a in links)  # the name is the title: nothing hidden
    plain = parse(bar_chart(months([1] * 12), title="新建工会", unit="家"))
    assert plain.get("role") == "img" and "2026年4月 1家" in plain.get("aria-label")


def test_the_running_month_is_marked_partial():
    root = parse(bar_chart(months([5, 6, 7, 8, 9, 6, 7, 8, 9, 7, 8, 1]), title="走访次数", unit="次",
                           partial="2026-04"))
    bars = by_class(root, "rect", "bar")
    assert [("bar-partial" in b.get("class")) for b in bars] == [False] * 11 + [True]
    assert bars[-1].get("fill-opacity") == "0.4" and bars[-1].get("stroke-dasharray")
    assert texts(root, "bar-partial-note") == ["进行中"]
    assert "2026年4月（进行中） 1次" in root.get("aria-label")
    assert bars[-1].find(f"{SVG}title").text == "2026年4月（进行中）：1次"
    # No running month in the series: nothing marked.
    other = parse(bar_chart(months([5] * 12), title="t", partial="2030-01"))
    assert not by_class(other, "rect", "bar-partial") and not texts(other, "bar-partial-note")


def test_a_line_chart_dashes_the_running_month():
    root = parse(line_chart([("职工沟通会", months([4] * 11 + [1])), ("企业沟通会", months([2] * 11 + [0]))],
                            title="沟通会场次", unit="场", partial="2026-04"))
    solid = [pl for pl in by_class(root, "polyline", "line") if "line-partial" not in pl.get("class")]
    dashed = by_class(root, "polyline", "line-partial")
    assert len(dashed) == 2 and all(len(pl.get("points").split()) == 2 for pl in dashed)
    assert all(len(pl.get("points").split()) == 11 for pl in solid)
    assert len(by_class(root, "circle", "dot-partial")) == 2
    assert texts(root, "line-partial-note") == ["进行中"]
    assert "2026年4月（进行中） 1场" in root.get("aria-label")
