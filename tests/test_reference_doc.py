"""docs/reference.md is the external contract in one page: it must name every setting,
command, endpoint and security-log event paced has, so that adding one without writing
it down fails here."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import httpx
import typer
from fastapi import APIRouter

import paced.web.routers
from paced.cli.main import app as cli
from paced.core.security_log import EVENTS
from paced.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "reference.md").read_text()


def test_every_setting_is_named() -> None:
    for name in Settings.model_fields:
        assert f"`PACED_{name.upper()}`" in PAGE, name


def test_every_command_is_named() -> None:
    group = typer.main.get_command(cli)
    commands: list[str] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        commands += [f"paced {name} {s}" for s in sub] if sub else [f"paced {name}"]
    assert commands
    for command in commands:
        assert command in PAGE, command


async def test_every_endpoint_is_named(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    for path in document["paths"]:
        assert f"`{path}`" in PAGE or f"{path}`" in PAGE, path


def test_every_page_route_is_named() -> None:
    """Pages are left out of /openapi.json: every path of every router is named anyway."""
    paths: set[str] = set()
    routers = paced.web.routers
    for module in pkgutil.walk_packages(routers.__path__, routers.__name__ + "."):
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, APIRouter):
                paths.update(getattr(route, "path", "") for route in value.routes)
    paths.discard("")
    assert "/device" in paths and "/login/two-factor" in paths
    for path in sorted(paths):
        assert f"`{path}`" in PAGE or f"{path}`" in PAGE, path


def test_every_security_event_is_named() -> None:
    for event in EVENTS:
        assert f"`{event}`" in PAGE, event


def test_the_docs_stand_alone() -> None:
    """No page of the repository's documentation points outside it."""
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        assert not re.search(r"SPEC\.md|SPEC §|\.\./shared|shared/SPEC", text), page.name
