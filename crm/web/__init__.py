"""The web layer: the app factory, the request class, security headers, templates' filters and
globals, error pages, the list of blueprints."""
