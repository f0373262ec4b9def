"""A real ``python -m web`` in a subprocess and a plain HTTP client of it (the hostile suite's tools)."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).parents[2]
STAFF_PASSWORD = "hostile staff password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A ``python -m web`` process on ``port`` with its database ``url`` and instance folder."""

    def __init__(self, url, instance, env=None, args=()):
        self.url, self.instance, self.port = url, Path(instance), free_port()
        self.log = self.instance / f"server-{self.port}.log"
        environ = dict(os.environ, DATABASE_URL=url, MATCHER_INSTANCE=str(instance), MATCHER_SECRET_KEY="hostile",
                       MATCHER_STAFF_PASSWORD=STAFF_PASSWORD, PYTHONUNBUFFERED="1")
        environ.update(env or {})
        self.instance.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "web", "--port", str(self.port), *args],
                                            cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server ended ({self.process.returncode}):\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not start in {timeout} s:\n{self.output()}")

    def output(self):
        return self.log.read_text(encoding="utf-8", errors="replace")

    def client(self):
        return Client(self.port)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Client:
    """A cookie-keeping HTTP client of one server (``http.client``: nothing between the test and the socket)."""

    def __init__(self, port):
        self.port, self.cookies, self.csrf = port, {}, None

    def request(self, method, path, body=None, headers=None, json_body=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False) if not isinstance(json_body, str) else json_body
            sent.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8", errors="surrogatepass")
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.csrf and method not in ("GET", "HEAD"):
            sent.setdefault("X-CSRFToken", self.csrf)
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            out = Response(raw.status, raw.getheaders(), raw.read())
        finally:
            conn.close()
        for key, value in out.headers:
            if key.lower() == "set-cookie":
                name, val = value.split(";", 1)[0].split("=", 1)
                self.cookies[name] = val
        return out

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def token(self, lang=None):
        self.csrf = self.get("/api/v1/csrf-token" + (f"?lang={lang}" if lang else "")).json()["csrf_token"]
        return self.csrf

    def login(self, username="staff", password=STAFF_PASSWORD):
        self.token()
        answer = self.post("/api/v1/session", json_body={"username": username, "password": password})
        assert answer.status == 200, answer.text
        return self

    def form(self, path, fields, files=None):
        """A multipart POST (the HTML forms' way), with the CSRF token in the header."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, data) in (files or {}).items():
            head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n")
            parts.append(head.encode("utf-8", errors="surrogatepass") + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.post(path, body=b"".join(parts),
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
