"""A real browser (Debian's chromium driven by Playwright) against a real `qrmint serve`, with
every request to anything but 127.0.0.1 refused and recorded: GraphiQL and /docs work
offline under their CSP, and a front-end on another origin calls the API through CORS."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, async_playwright

from api.operations import OPERATIONS
from tests.qrmint.serving import Served
from tests.support import free_port

CHROMIUM = "/usr/bin/chromium"
LOCAL = "127.0.0.1"
FRONT_PORT, OTHER_PORT = free_port(), free_port()
FRONT = f"http://{LOCAL}:{FRONT_PORT}"  # the allowed origin
CSP_PROBE = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)
SET_EDITOR = """([marker, text]) => {
  for (const element of document.querySelectorAll('.CodeMirror')) {
    if (element.CodeMirror.getValue().includes(marker)) {
      element.CodeMirror.setValue(text);
      return;
    }
  }
  throw new Error('no editor holds ' + marker);
}"""
SET_QUERY = """(text) => {
  document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text);
}"""
RESULT = "() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is missing"),
]


@dataclass
class Session:
    page: Page
    outside: list[str] = field(default_factory=list)  # every request that left 127.0.0.1
    seen: list[str] = field(default_factory=list)

    async def violations(self) -> list[str]:
        found: list[str] = await self.page.evaluate("window.__csp")
        return found


@dataclass
class Stack:
    served: Served
    key: str


class _FrontPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>front</title><p>a front-end app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def front_ends() -> Iterator[None]:
    """Two front-end origins on this machine (a page from a loopback server, so the browser
    treats its calls to the API as local ones): FRONT is allowed, OTHER_PORT is not."""
    servers = [ThreadingHTTPServer((LOCAL, port), _FrontPage) for port in (FRONT_PORT, OTHER_PORT)]
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    yield
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    served = Served(
        tmp_path_factory.mktemp("browser") / "var",
        env={"QRMINT_CORS_ORIGINS": FRONT, "QRMINT_LOG_FORMAT": "json"},
    )
    served.start()
    yield Stack(served, served.key("mega"))
    served.kill()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        await browser.close()


@pytest.fixture
async def session(browser: Browser) -> AsyncIterator[Session]:
    context = await browser.new_context()
    page = await context.new_page()
    session = Session(page)

    async def only_local(route: Route) -> None:
        url = route.request.url
        session.seen.append(url)
        host = urlsplit(url).hostname
        if host == LOCAL:
            await route.continue_()
        else:
            session.outside.append(url)
            await route.abort()

    page.on("websocket", lambda socket: session.seen.append(socket.url))
    await context.route("**/*", only_local)
    await page.add_init_script(CSP_PROBE)
    yield session
    await context.close()
    assert session.outside == []
    assert all(urlsplit(url).hostname == LOCAL for url in session.seen), session.seen


@pytest.fixture
async def front(browser: Browser) -> AsyncIterator[Page]:
    """A page with nothing intercepted: with interception on, the browser's CORS preflight
    would be answered by Playwright instead of reaching qrmint."""
    context = await browser.new_context()
    yield await context.new_page()
    await context.close()


async def _open_graphiql(session: Session, stack: Stack) -> None:
    await session.page.goto(f"{stack.served.api_url}/graphql")
    await session.page.wait_for_selector(".graphiql-container", timeout=30_000)
    headers = json.dumps({"Authorization": f"Bearer {stack.key}"})
    await session.page.evaluate(SET_EDITOR, ["<your API key>", headers])


async def _run(session: Session, query: str) -> None:
    await session.page.evaluate(SET_QUERY, query)
    await session.page.wait_for_timeout(800)  # GraphiQL parses the edited document first
    await session.page.click(".graphiql-execute-button")


async def _result(session: Session, contains: str) -> Any:
    await session.page.wait_for_function(
        f"() => ({RESULT})().includes({json.dumps(contains)})", timeout=30_000
    )
    return json.loads(await session.page.evaluate(RESULT))


async def test_graphiql_runs_a_query_offline(session: Session, stack: Stack) -> None:
    await _open_graphiql(session, stack)
    await _run(session, "{ me { tier } }")
    assert await _result(session, "tier") == {"data": {"me": {"tier": "mega"}}}
    # The key in the Headers pane also loaded the schema (completion, docs).
    await session.page.click("[aria-label='Show Documentation Explorer']")
    await session.page.wait_for_selector("text=Root Types", timeout=30_000)
    assert await session.violations() == []


async def test_graphiql_streams_a_subscription_over_websocket(
    session: Session, stack: Stack
) -> None:
    headers = {"Authorization": f"Bearer {stack.key}"}
    async with httpx.AsyncClient(base_url=stack.served.api_url, headers=headers) as client:
        created = await client.post(
            "/qr/generate", json={"type": "dynamic", "data": "https://a.b/"}
        )
    qr = created.json()
    await _open_graphiql(session, stack)
    await _run(session, f'subscription {{ scanCount(qrId: "{qr["id"]}") {{ totalScans }} }}')
    assert await _result(session, "totalScans") == {"data": {"scanCount": {"totalScans": 0}}}
    async with httpx.AsyncClient() as phone:
        assert (await phone.get(qr["short_url"])).status_code == 302
    assert await _result(session, '"totalScans": 1') == {"data": {"scanCount": {"totalScans": 1}}}
    assert any(url.startswith(f"ws://{LOCAL}:") for url in session.seen)
    assert await session.violations() == []


async def test_docs_show_every_operation_offline(session: Session, stack: Stack) -> None:
    await session.page.goto(f"{stack.served.api_url}/docs")
    await session.page.wait_for_selector(".opblock", timeout=30_000)
    shown = await session.page.locator(".opblock").count()
    assert shown == len(OPERATIONS)
    assert await session.page.locator("text=Generate a static or dynamic QR code").count() == 1
    assert await session.violations() == []


FETCH = """async ([url, key]) => {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: {'Authorization': 'Bearer ' + key, 'Content-Type': 'application/json'},
      body: JSON.stringify({query: '{ me { tier } }'}),
    });
    return {status: response.status, body: await response.json(),
            remaining: response.headers.get('X-RateLimit-Remaining')};
  } catch (error) {
    return {error: String(error)};
  }
}"""


@pytest.mark.usefixtures("front_ends")
async def test_a_front_end_on_another_origin_calls_graphql(front: Page, stack: Stack) -> None:
    await front.goto(f"{FRONT}/app")
    answer = await front.evaluate(FETCH, [f"{stack.served.api_url}/graphql", stack.key])
    assert answer.get("status") == 200, answer
    assert answer["body"] == {"data": {"me": {"tier": "mega"}}}
    assert answer["remaining"] is not None  # exposed to the page's script
    assert 200 in _preflights(stack)  # answered without a key


def _preflights(stack: Stack) -> list[int]:
    """The statuses of the browser's preflights for /graphql, from qrmint's access lines."""
    return [
        record["status"]
        for record in map(json.loads, stack.served.log.read_text().splitlines())
        if record.get("method") == "OPTIONS" and record.get("path") == "/graphql"
    ]


@pytest.mark.usefixtures("front_ends")
async def test_other_origins_are_refused(front: Page, stack: Stack) -> None:
    await front.goto(f"http://{LOCAL}:{OTHER_PORT}/app")
    answer = await front.evaluate(FETCH, [f"{stack.served.api_url}/graphql", stack.key])
    assert "error" in answer
    assert "Failed to fetch" in answer["error"]
    assert 400 in _preflights(stack)  # qrmint refused the origin at the preflight
