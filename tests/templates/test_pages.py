"""What every page owes the person reading it, checked on the rendered HTML of every page:
the sign-out button and the `Developer settings` link when signed in (docs/reference.md §7), a label on
every field, errors beside their fields with the focus on the first one, times written
"3 hours ago" with the exact time on hover, destructive buttons only behind a
confirmation, empty states that say what to do next."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.every_page import furnish, page_routes, signed_in_pages
from tests.helpers import sign_up, submit

TEMPLATES = Path(__file__).resolve().parents[2] / "paced" / "templates"
CONTROLS = {"input", "select", "textarea"}
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}
UNIT = r"\d+ (?:minute|hour|day|month|year)s?"
RELATIVE_TIME = re.compile(rf"\bjust now\b|\bin a moment\b|\bin {UNIT}\b|\b{UNIT} ago\b")
EXACT_DAY = re.compile(
    r"\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December) \d{4}"
)


class Page(HTMLParser):
    """The parts of a page these checks read."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[tuple[str, dict[str, str], bool]] = []  # tag, attributes, in a label
        self.labelled_ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # href, text
        self.forms: list[dict[str, str]] = []
        self.buttons: list[tuple[int, str, str]] = []  # form index, class, text
        self.times: list[tuple[dict[str, str], str]] = []
        self.loose_times: list[str] = []
        self.headings: list[str] = []
        self.error_ids: list[str] = []
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self._labels = 0
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag in CONTROLS:
            self.controls.append((tag, attributes, self._labels > 0))
        if tag == "label":
            self._labels += 1
            if "for" in attributes:
                self.labelled_ids.add(attributes["for"])
        if tag == "form":
            self.forms.append(attributes)
        if "error" in attributes.get("class", "").split() and "id" in attributes:
            self.error_ids.append(attributes["id"])
        if tag in {"a", "button", "time", "h1", "label"}:
            self._open.append((tag, attributes, []))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._labels -= 1
        if not self._open or self._open[-1][0] != tag:
            return
        _, attributes, parts = self._open.pop()
        text = " ".join("".join(parts).split())
        if self._open:
            self._open[-1][2].append(text)
        if tag == "a":
            self.links.append((attributes.get("href", ""), text))
        elif tag == "button":
            self.buttons.append((len(self.forms) - 1, attributes.get("class", ""), text))
        elif tag == "time":
            self.times.append((attributes, text))
        elif tag == "h1":
            self.headings.append(text)

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)
        inside_time = any(tag == "time" for tag, _, _ in self._open)
        if not inside_time and RELATIVE_TIME.search(data):
            self.loose_times.append(data.strip())

    def autofocused(self) -> list[str]:
        return [attrs.get("id", "?") for _, attrs, _ in self.controls if "autofocus" in attrs]


@pytest.fixture
async def pages(client: httpx.AsyncClient) -> dict[str, Page]:
    furnished = await furnish(client)
    return {path: Page(text) for path, text in (await signed_in_pages(client, furnished)).items()}


def test_the_pages_are_found_from_the_routers() -> None:
    routes = page_routes()
    for known in ("/settings/developer", "/settings/developer/tokens/new", "/settings/account"):
        assert known in routes
    assert "/settings/developer/applications/{app_id}" in routes


async def test_every_signed_in_page_offers_sign_out_and_developer_settings(
    pages: dict[str, Page],
) -> None:
    missing = []
    for path, page in pages.items():
        sign_out = [
            index
            for index, form in enumerate(page.forms)
            if form.get("action") == "/logout" and form.get("method") == "post"
        ]
        has_button = any(i in sign_out and text == "Sign out" for i, _, text in page.buttons)
        has_link = ("/settings/developer", "Developer settings") in page.links
        if not (has_button and has_link):
            missing.append(path)
    assert len(pages) >= 14
    assert not missing, f"no sign-out button or Developer settings link on {missing}"


async def test_every_page_has_one_heading_and_a_label_on_every_field(
    pages: dict[str, Page],
) -> None:
    unlabelled = []
    for path, page in pages.items():
        assert len(page.headings) == 1, f"{path} has the headings {page.headings}"
        for tag, attrs, in_label in page.controls:
            if tag == "input" and attrs.get("type", "text") in UNLABELLED_TYPES:
                continue
            named = attrs.get("id") in page.labelled_ids or in_label
            if not (named or attrs.get("aria-label") or attrs.get("aria-labelledby")):
                unlabelled.append(f"{path}: <{tag} name={attrs.get('name')}>")
    assert not unlabelled, unlabelled


async def test_every_time_is_relative_with_the_exact_time_on_hover(
    pages: dict[str, Page],
) -> None:
    shown = 0
    for path, page in pages.items():
        assert not page.loose_times, f"{path} shows a time outside <time>: {page.loose_times}"
        for attrs, text in page.times:
            shown += 1
            # A relative time (`when`), or a day people plan by (`on_date`).
            assert RELATIVE_TIME.search(text) or EXACT_DAY.fullmatch(text), (path, text)
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", attrs["title"]), path
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", attrs["datetime"]), path
    assert shown >= 10


def test_the_templates_show_every_time_through_the_when_macro() -> None:
    """A timestamp (`…_at`) is written by `when(…)`, which gives the relative time and
    the exact one on hover, or by `on_date(…)` for a day people plan by (an expiry);
    only screen-reader text may spell a time out exactly."""
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        if template.parent.name == "mail":  # read in a mail program: times spelt out
            continue
        for expression in re.findall(r"{{(.*?)}}", template.read_text(), re.S):
            expression = expression.strip()
            if re.search(r"\w_at\b", expression) and not expression.startswith(
                ("when(", "on_date(")
            ):
                if "| exact_time" not in expression:
                    offenders.append(f"{template.name}: {{{{ {expression} }}}}")
            if "| ago" in expression and template.name != "_macros.html":
                offenders.append(f"{template.name}: {{{{ {expression} }}}}")
    assert not offenders, offenders


async def test_destructive_buttons_stand_behind_a_confirmation(pages: dict[str, Page]) -> None:
    """A red button either is on a page whose only purpose is to confirm (…/revoke,
    …/delete, reached by a link) or asks before its form is sent."""
    confirmations = 0
    for path, page in pages.items():
        for form_index, classes, text in page.buttons:
            if "danger" not in classes.split():
                continue
            form = page.forms[form_index]
            if path.endswith(("/revoke", "/delete")):
                confirmations += 1
            else:
                assert "data-confirm" in form, f"{path}: “{text}” acts at once"
    assert confirmations >= 4


async def test_empty_states_say_what_to_do_next(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    developer = Page((await client.get("/settings/developer")).text)
    assert ("/settings/developer/tokens/new", "Create a token") in developer.links
    assert ("/settings/developer/applications/new", "Register an application") in developer.links
    authorized = (await client.get("/settings/authorized-applications")).text
    assert "You have not authorized any application. When an application asks" in authorized


FIRST_ERRORS = [
    pytest.param(
        "/signup",
        {"name": "Ann", "email": "not-an-email", "password": "short"},
        "email",
        id="sign-up: the email before the password",
    ),
    pytest.param(
        "/settings/developer/tokens/new",
        {"name": "", "expiration": "30"},
        "name",
        id="a token with no name and no scope: its name",
    ),
    pytest.param(
        "/settings/developer/tokens/new",
        {"name": "ci", "expiration": "30"},
        "scope-read",
        id="a token with no scope: the first scope",
    ),
    pytest.param(
        "/settings/developer/tokens/new",
        {"name": "ci", "scopes": "read", "expiration": "custom"},
        "expiration_date",
        id="a custom expiry without a date: the date",
    ),
    pytest.param(
        "/settings/developer/applications/new",
        {"name": "", "redirect_uris": "http://example.com/cb", "client_type": "confidential"},
        "name",
        id="an application with no name and a bad redirect: its name",
    ),
    pytest.param(
        "/settings/developer/applications/new",
        {"name": "Z", "redirect_uris": "ftp://x", "homepage_url": "nope", "client_type": "public"},
        "redirect_uris",
        id="an application with a bad redirect and homepage: the redirect URIs",
    ),
    pytest.param(
        "/settings/account/profile",
        {"name": "Ann", "time_zone": "Mars/Olympus"},
        "time_zone",
        id="a profile with an unknown time zone: the time zone",
    ),
    pytest.param(
        "/settings/account/password",
        {"current_password": "wrong password", "new_password": "short"},
        "current_password",
        id="a password change with both wrong: the current password",
    ),
]


@pytest.mark.parametrize(("action", "fields", "focused"), FIRST_ERRORS)
async def test_errors_sit_beside_their_fields_and_the_first_has_the_focus(
    client: httpx.AsyncClient, action: str, fields: dict[str, str], focused: str
) -> None:
    if action != "/signup":
        await sign_up(client)
    form_page = "/settings/account" if action.startswith("/settings/account") else action
    response = await submit(client, form_page, action, **fields)
    assert response.status_code == 400, response.text
    page = Page(response.text)
    assert page.autofocused() == [focused]
    for _, attrs, _ in page.controls:
        if attrs.get("aria-invalid") == "true":
            described = attrs.get("aria-describedby", "").split()
            assert f"{attrs['id']}-error" in described, attrs
    first_error = page.error_ids[0].removesuffix("-error")
    assert focused.startswith(first_error.rstrip("s")), (page.error_ids, focused)
