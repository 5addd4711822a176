"""Alembic environment: runs on the connection deskops hands it."""

from alembic import context

from deskops.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through deskops.store.engine.migrate (or `deskops db upgrade`)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
