"""Opening the database for a process that starts: the field encryption key checked against what is stored.

Above core.db and the services (it asks core.services.keys), so neither config nor db needs a service.
"""

from __future__ import annotations

import logging

from sqlalchemy import exc as sa_exc

from core.config import ConfigError, Settings
from core.db import AsyncDatabase, Database, ServiceContext, build_context, create_sync_engine
from core.services.keys import check_key, sample_ciphertext


def open_database(settings: Settings, **engine_kw) -> Database:
    """The sync database of a process starting up (panel, CLI): stops with ConfigError if the field key is
    missing, malformed or cannot read the stored numbers (see startup_context)."""
    return Database(settings.effective_database_url, startup_context(settings), **engine_kw)


def open_async_database(settings: Settings, **engine_kw) -> AsyncDatabase:
    """The bot's async database, with the same start-up check."""
    return AsyncDatabase(settings.effective_database_url, startup_context(settings), **engine_kw)


def startup_context(settings: Settings) -> ServiceContext:
    """build_context, checked against the database (one row) before a process starts.

    FIELD_ENCRYPTION_KEY unset, no key file in DATA_DIR, but encrypted numbers stored: a new key would
    never read them, so none is generated. A malformed key, or one that cannot decrypt the newest stored
    number, stops start-up too. Each is a ConfigError whose message is one line naming the variable.
    """
    engine = create_sync_engine(settings.effective_database_url)
    try:
        try:
            conn = engine.connect()
        except sa_exc.DBAPIError as exc:  # a database that is down now may be up in a minute: the updates
            # get an apology meanwhile, and the key is checked by the next start
            logging.getLogger(__name__).warning(
                "could not check FIELD_ENCRYPTION_KEY against the database (%s)", type(exc.orig).__name__
            )
            return build_context(settings)
        with conn:
            token = sample_ciphertext(conn)
        if (
            token is not None
            and settings.field_encryption_key is None
            and not (settings.data_dir / "field_encryption.key").exists()
        ):
            raise ConfigError(
                f"FIELD_ENCRYPTION_KEY: not set, and no key file in {settings.data_dir}, but the "
                "database holds encrypted sender numbers; set it to the key they were encrypted with"
            )
        context = build_context(settings)
        check_key(token, context.cipher)
        return context
    finally:
        engine.dispose()
