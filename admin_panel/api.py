"""JSON endpoints for admins (the seed's paths); session-authenticated, CSRF header for writes."""
from __future__ import annotations

from flask import Blueprint

api = Blueprint("api", __name__, url_prefix="/api/admin")
