"""Which door a write came through: "api" for a request authenticated by a personal access token
(crm.api sets it), "" for the pages and everything else. Recorded changes keep it (`via`)."""
from flask import g, has_request_context

API = "api"


def current() -> str:
    return g.get("channel", "") if has_request_context() else ""


def set_current(name: str):
    g.channel = name
