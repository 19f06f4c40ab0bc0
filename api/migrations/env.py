"""Alembic environment: runs on the connection api.db.migrate() hands over."""

from alembic import context

import api.models  # noqa: F401  (registers every table on Base.metadata)
from api.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
