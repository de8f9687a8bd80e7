"""The HTTP side: the page and its assets, /healthz, /metrics."""
import json


def test_the_page_is_served_with_its_assets_and_no_cdn(chat):
    status, headers, body = chat.http("/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in headers["content-security-policy"]
    page = body.decode()
    assert '<link rel="stylesheet" href="/chat.css">' in page
    assert '<script src="/chat.js"></script>' in page
    assert "http://" not in page and "https://" not in page
    assert 'name="viewport"' in page
    status, headers, script = chat.http("/chat.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert b"innerHTML" not in script and b"insertAdjacentHTML" not in script
    assert b"reconnecting" in script
    status, headers, css = chat.http("/chat.css")
    assert status == 200 and headers["content-type"].startswith("text/css")
    assert b"@media (max-width: 600px)" in css


def test_healthz(chat):
    status, headers, body = chat.http("/healthz")
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "ok" and health["broker"] == "in-process" and health["degraded"] is False


def test_metrics_in_the_prometheus_text_format(chat):
    ann = chat.client("ann", "lobby")
    ann.send("hi")
    ann.expect("[lobby] ann: hi")
    status, headers, body = chat.http("/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    for name in [
        "# TYPE chat_connections gauge",
        'chat_connections{kind="line"} 1.0',
        "chat_rooms 1.0",
        "chat_messages_in_total 1",
        "# TYPE chat_messages_out_total counter",
        "# TYPE chat_dropped_total counter",
        "# TYPE chat_broker_lag_seconds histogram",
    ]:
        assert name in text, name


def test_unknown_paths_and_methods(chat):
    status, _, _ = chat.http("/nope")
    assert status == 404
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", chat.http_port, timeout=5)
    connection.request("POST", "/", body=b"x")
    response = connection.getresponse()
    assert response.status == 405 and "GET" in response.getheader("Allow")
