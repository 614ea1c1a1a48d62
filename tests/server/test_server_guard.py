"""A web page cannot drive the keyless loopback server: no form POSTs, no rebound Host, no CORS."""

from __future__ import annotations

import json

import pytest
from server_helpers import StartServer, exchange, post_bytes, raw

from jackfield import Registry
from jackfield._server.guard import _same_address, host_name
from mockprovider import MockServer

BODY = json.dumps({"model": "echo", "messages": [{"role": "user", "content": "hi"}]}).encode()


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None,
])
async def test_a_form_post_from_a_web_page_is_refused_before_any_call(
        strict_registry: Registry, start_server: StartServer, mock_server: MockServer,
        content_type: str | None) -> None:
    url = await start_server(strict_registry)
    headers = {"Origin": "https://evil.example"}
    for extra in ({}, {"content-type": content_type} if content_type else {}):
        status, _, reply = await raw("POST", f"{url}/v1/chat/completions", data=BODY,
                                     headers=extra | headers)
        assert status == 403 and reply["error"]["code"] == "origin_not_allowed"
        assert "--cors-origin" in reply["error"]["message"]
    # Even without an Origin (a page can hide it in some browsers), the type is refused.
    lines = [f"Content-Type: {content_type}"] if content_type else []
    status, headers_, body = await exchange(url, post_bytes(BODY, *lines))
    reply = json.loads(body)
    assert status == 415 and headers_["content-type"].startswith("application/json")
    assert reply["error"]["code"] == "unsupported_media_type"
    assert "application/json" in reply["error"]["message"]
    assert mock_server.seen == []


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example",
                                  "localhost.evil.example", "10.0.0.1"])
async def test_a_foreign_host_is_refused(strict_registry: Registry, start_server: StartServer,
                                         mock_server: MockServer, host: str) -> None:
    url = await start_server(strict_registry)
    status, _, body = await exchange(url, post_bytes(BODY, "Content-Type: application/json",
                                                     host=host))
    reply = json.loads(body)
    assert status == 403 and reply["error"]["code"] == "host_not_allowed"
    assert "--allowed-host" in reply["error"]["message"]
    status, _, reply = await raw("GET", f"{url}/health", headers={"Host": host})
    assert status == 403  # a rebound page cannot read /health either
    assert mock_server.seen == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:{port}", "localhost", "LOCALHOST:1",
                                  "[::1]", "[::1]:{port}", "localhost.", None])
async def test_loopback_hosts_are_served(strict_registry: Registry, start_server: StartServer,
                                         host: str | None) -> None:
    url = await start_server(strict_registry)
    port = url.rsplit(":", 1)[1]
    lines = ["Content-Type: application/json"]
    request = post_bytes(BODY, *lines, host=host.format(port=port) if host else "x")
    if host is None:  # an HTTP/1.0 client sends no Host at all
        request = request.replace(b"HTTP/1.1\r\nHost: x\r\n", b"HTTP/1.0\r\n")
    status, _, body = await exchange(url, request)
    assert status == 200, body
    assert json.loads(body)["choices"][0]["message"]["content"] == "You said: hi"


async def test_allowed_host_names_are_served(strict_registry: Registry,
                                             start_server: StartServer) -> None:
    url = await start_server(strict_registry, allowed_hosts=["jackfield.lan"])
    for host, expected in [("jackfield.lan", 200), ("JACKFIELD.lan:80", 200), ("other.lan", 403)]:
        status, _, _ = await raw("GET", f"{url}/v1/models", headers={"Host": host})
        assert status == expected, host
    url = await start_server(strict_registry, allowed_hosts=["*"])
    assert (await raw("GET", f"{url}/v1/models", headers={"Host": "any.example"}))[0] == 200


async def test_cors_is_closed_unless_an_origin_is_allowed(
        strict_registry: Registry, start_server: StartServer) -> None:
    url = await start_server(strict_registry)
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    status, headers, _ = await raw("OPTIONS", f"{url}/v1/chat/completions", headers=preflight)
    assert status == 403 and "Access-Control-Allow-Origin" not in headers
    status, headers, _ = await raw("GET", f"{url}/v1/models")
    assert status == 200 and "Access-Control-Allow-Origin" not in headers

    url = await start_server(strict_registry, cors_origins=["https://app.example"])
    status, headers, _ = await raw("OPTIONS", f"{url}/v1/chat/completions", headers=preflight)
    assert status == 204 and headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    status, headers, _ = await raw("POST", f"{url}/v1/chat/completions", data=BODY, headers={
        "Origin": "https://app.example", "Content-Type": "application/json"})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "https://app.example"
    # The page may read what the call did not do, and when to retry.
    assert headers["Access-Control-Expose-Headers"] == (
        "X-Jackfield-Warnings, X-Jackfield-Emulated, Retry-After")
    status, headers, _ = await raw("GET", f"{url}/v1/models",
                                   headers={"Origin": "https://other.example"})
    assert status == 403 and "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize(("header", "name"), [
    ("Example.COM:8080", "example.com"), ("example.com.", "example.com"), ("[::1]:80", "::1"),
    ("::1", "::1"), ("10.0.0.1:1", "10.0.0.1"),
])
def test_host_name_drops_the_port_and_case(header: str, name: str) -> None:
    assert host_name(header) == name


def test_an_ipv4_client_of_a_dual_stack_socket_matches_its_address() -> None:
    assert _same_address("192.168.1.5", "::ffff:192.168.1.5")
    assert not _same_address("192.168.1.6", "::ffff:192.168.1.5")
    assert not _same_address("evil.example", "192.168.1.5")
