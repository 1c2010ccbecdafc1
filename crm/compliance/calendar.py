"""The calendar of the 双沟通 rules (docs/rules.md), as plain date arithmetic.

- A week runs Monday to Sunday and belongs to the month that holds its Thursday (the ISO rule).
- A month has two half-months: days 1–15 and 16 to the end.
- The district meeting falls on the third Thursday.
- A period is "met", "running" (still open and can still be met: amber), "missed" (over and not
  met: red) or "future" (not begun).
"""
from dataclasses import dataclass
from datetime import date, timedelta

THURSDAY = 3


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        return f"{self.start.month}/{self.start.day}–{self.end.month}/{self.end.day}"


def month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def month_period(year: int, month: int) -> Period:
    return Period(date(year, month, 1), month_end(year, month))


def third_thursday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(THURSDAY - first.weekday()) % 7 + 14)


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period(monday, monday + timedelta(days=6))


def month_of_week(week: Period) -> tuple[int, int]:
    """(year, month) a Monday–Sunday week belongs to: the month of its Thursday."""
    thursday = week.start + timedelta(days=THURSDAY)
    return thursday.year, thursday.month


def weeks_of_month(year: int, month: int) -> list[Period]:
    """The weeks that belong to the month (4 or 5), in order; they may begin in the month
    before or end in the month after."""
    first_thursday = date(year, month, 1) + timedelta(days=(THURSDAY - date(year, month, 1).weekday()) % 7)
    weeks = []
    thursday = first_thursday
    while thursday.month == month:
        weeks.append(Period(thursday - timedelta(days=THURSDAY), thursday + timedelta(days=6 - THURSDAY)))
        thursday += timedelta(days=7)
    return weeks


def half_months(year: int, month: int) -> list[Period]:
    return [Period(date(year, month, 1), date(year, month, 15)),
            Period(date(year, month, 16), month_end(year, month))]


def quarter_of(year: int, month: int) -> Period:
    first = 3 * ((month - 1) // 3) + 1
    return Period(date(year, first, 1), month_end(year, first + 2))


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31))


def state(period: Period, met: bool, today: date) -> str:
    """met | running (amber: not over, can still be met) | missed (red) | future."""
    if met:
        return "met"
    if today < period.start:
        return "future"
    if today <= period.end:
        return "running"
    return "missed"


def months_back(year: int, month: int, n: int) -> list[tuple[int, int]]:
    """The n months ending with (year, month), oldest first."""
    out = []
    for _ in range(n):
        out.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]
