"""The admins' JSON API under /api/admin/ (routes.py, its models in schemas.py) and the documentation of both JSON
APIs (docs.py: /api/openapi.json, the interactive /api-docs and the plain /api-docs/reference)."""

from __future__ import annotations

from flask import Flask

from admin_panel.admin_api.docs import api_docs, api_reference_plain, build_spec, docs
from admin_panel.admin_api.routes import OPERATIONS, api
from admin_panel.web.openapi import ApiSpec

__all__ = ["api", "build_spec", "register"]


def register(app: Flask, spec: ApiSpec) -> None:
    """The admin API's routes, their operations in `spec`, and the documentation pages."""
    for op in OPERATIONS:  # declared beside the routes (routes.py)
        spec.add(op)
    app.register_blueprint(api)
    app.register_blueprint(docs)
    app.add_url_rule("/api-docs", "api_reference", api_docs)  # panel pages, outside /api/
    app.add_url_rule("/api-docs/reference", "api_reference_plain", api_reference_plain)
    app.extensions["student_api_spec"] = spec
