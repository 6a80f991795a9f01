"""The admins' API runs in the panel's app: the panel's fixtures (an app with the tests' school and one account
per role)."""

from tests.panel.conftest import client, finance, mentor, owner, panel, panel_template  # noqa: F401
