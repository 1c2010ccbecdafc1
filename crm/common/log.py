"""The security log ("crm.security"): sign-ins, lockouts, denials, changes of access. The audit
log (crm.audit) is what admins read; this is what an operator's log collector gets.

Every log record carries `request_id`: the id of the request it was written in (flask.g, set by
crm.web.request_ids), "-" outside a request. The "crm" loggers write to one handler (stderr, or
the WSGI server's error stream during a request) in text, or one JSON object a line with
CRM_LOG_JSON=1 (`setup`)."""
import json
import logging
from datetime import datetime, timezone

log = logging.getLogger("crm.security")

NO_REQUEST = "-"
TEXT_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s [%(request_id)s]: %(message)s"


def current_request_id() -> str:
    """The id of the request being served in this thread, "-" outside one."""
    try:
        from flask import g, has_request_context
        if has_request_context():
            return g.get("request_id") or NO_REQUEST
    except Exception:  # noqa: BLE001 (a log line is never lost for want of its id)
        pass
    return NO_REQUEST


def install_record_factory():
    """Every LogRecord made in this process gets `request_id` (once; the previous factory is
    kept and called first)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_crm_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return record

    factory._crm_request_id = True
    logging.setLogRecordFactory(factory)


class TextFormatter(logging.Formatter):
    """Flask's default format with the request id; a record made before the factory was
    installed (or given a plain dict) still formats."""

    def __init__(self, fmt=TEXT_FORMAT, datefmt=None):
        super().__init__(fmt, datefmt, defaults={"request_id": NO_REQUEST})


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, request_id, and
    exception (the traceback's text) when there is one."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or NO_REQUEST,
        }
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def formatter(json_lines: bool) -> logging.Formatter:
    return JsonFormatter() if json_lines else TextFormatter()


def setup(json_lines: bool = False):
    """The "crm" loggers' handler, in text or JSON lines (called by the app factory; the
    process has one such handler: a later app's setting replaces an earlier one's)."""
    from flask.logging import wsgi_errors_stream

    install_record_factory()
    logger = logging.getLogger("crm")
    logger.setLevel(logging.INFO)
    handler = next((h for h in logger.handlers if getattr(h, "_crm", False)), None)
    if handler is None:
        handler = logging.StreamHandler(wsgi_errors_stream)  # as Flask's own default handler
        handler._crm = True
        logger.addHandler(handler)
    handler.setFormatter(formatter(json_lines))
    return handler
