"""Server-drawn SVG charts (no JavaScript, no chart library) for the dashboard."""
from .svg import bar_chart, fmt_num, line_chart, nice_max

__all__ = ["bar_chart", "line_chart", "nice_max", "fmt_num"]
