"""The rules of paced: tokens, accounts and OAuth 2, free of any web framework or ORM.

Everything here is plain functions and frozen dataclasses over the narrow storage
protocols of `paced.core.store`. `tests/core/test_independence.py` fails if a module
here imports FastAPI, Starlette or SQLAlchemy.
"""
