"""Storage: the protocols of `paced.core.store` over statements built with SQLAlchemy Core
and run by one executor per backend on the driver itself (compiled.py)."""
