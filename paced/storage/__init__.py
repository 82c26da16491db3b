"""Storage: SQLAlchemy (Core, async) implementations of the protocols in `paced.core.store`."""
