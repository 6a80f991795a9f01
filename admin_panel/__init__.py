"""The web process: one Flask app serving five interfaces, one subpackage each (web/ holds what they share):
the admins' panel (panel/, /admin/), the admins' JSON API and the API docs (admin_api/, /api/admin/, /api-docs),
the students' JSON API (student_api/, /api/), the students' Mini App (miniapp/, /app/) and webhooks (webhooks/,
/api/sms/). create_app (web/app.py) builds it."""

from __future__ import annotations

from admin_panel.web.app import create_app

__all__ = ["create_app"]
