"""Security headers on every response (error pages included)."""
from flask import request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
}


STATIC_ENDPOINTS = {"static", "bootstrap.static"}


def init_app(app):
    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Nothing but the static files is kept by a browser or a proxy: pages, exports and JSON
        # carry personal data (the service worker keeps its own copies, per login).
        if request.endpoint not in STATIC_ENDPOINTS:
            response.headers.setdefault("Cache-Control", "no-store")
        return response
