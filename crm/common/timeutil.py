"""Time: stored as naive UTC datetimes and plain dates, shown in Asia/Shanghai."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current instant (aware, UTC). The one clock: tests replace it to fix the time."""
    return datetime.now(timezone.utc)


def utcnow() -> datetime:
    return now().replace(tzinfo=None, microsecond=0)


def to_local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ)


def local_now() -> datetime:
    return now().astimezone(LOCAL_TZ)


def local_today() -> date:
    """Today in Beijing: what "due today" and "overdue" are measured against."""
    return local_now().date()


def quarter_start(day: date) -> date:
    """The first day of `day`'s quarter."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def last_complete_month(today: date) -> tuple[int, int]:
    """(year, month) of the last month that has ended: what reports open on by default."""
    return (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)


def fmt_dt(dt: datetime | None) -> str:
    local = to_local(dt)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def fmt_date(d) -> str:
    if d is None or d == "":
        return ""
    if isinstance(d, datetime):
        return fmt_dt(d)
    return d.isoformat() if hasattr(d, "isoformat") else str(d)
