"""The reverse-proxy example of docs/operations.md, run: nginx with that very block in front of a live server
(skipped when nginx is not installed; ``.ci/run`` installs it)."""

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from hostile_server import ROOT, Client, free_port

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def documented_block():
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    return re.search(r"```nginx\n(.*?)```", text, re.S).group(1)


@pytest.fixture(scope="module")
def proxy(start_server, tmp_path_factory):
    if NGINX is None:
        pytest.skip("nginx is not installed")
    server = start_server(env={"MATCHER_TRUSTED_PROXY": "127.0.0.1"})
    port, folder = free_port(), tmp_path_factory.mktemp("nginx")
    block = documented_block().replace("127.0.0.1:5000", f"127.0.0.1:{server.port}")
    block = block.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("client_header_timeout 15s;",
                                                                          "client_header_timeout 3s;")
    conf = folder / "nginx.conf"
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "events { worker_connections 1024; }\n"
        f"http {{\naccess_log {folder / 'access.log'};\n"
        + "".join(f"{name}_temp_path {path};\n" if name != "body" else f"client_body_temp_path {path};\n"
                  for name, path in temp.items())
        + block + "\n}\n")
    check = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(folder)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(folder)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield port, server
    process.terminate()
    process.wait(10)


def test_the_documented_proxy_serves_pages_and_logs_in(proxy):
    port, _server = proxy
    client = Client(port)
    assert client.get("/api/v1/rounds").status == 200
    client.login()
    assert client.get("/staff/").status == 200


def test_slow_clients_of_the_proxy_never_reach_the_server(proxy):
    port, server = proxy
    held = []
    for _ in range(120):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    try:
        assert Client(port).get("/api/v1/rounds", timeout=10).status == 200
        assert Client(server.port).get("/api/v1/rounds", timeout=10).status == 200
    finally:
        for s in held:
            s.close()


def test_a_body_past_the_upload_limit_is_refused_by_the_proxy(proxy):
    port, _server = proxy
    answer = Client(port).post("/api/v1/session", body=b"x" * (12 * 1024 * 1024),
                               headers={"Content-Type": "application/json"})
    assert answer.status == 413
