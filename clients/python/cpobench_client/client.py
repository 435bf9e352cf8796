"""cpobench HTTP API client (stdlib only). The routes are those of GET /api/openapi.json."""

import base64
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request


class ApiError(Exception):
    """An error answer of the API: HTTP status, message and, for a bad field, its name."""

    def __init__(self, status, message, field=None):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.field = field


class Client:
    def __init__(self, url, token=None, timeout=30.0):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    # --- HTTP ---
    def _request(self, method, path, body=None, raw=False):
        headers = {"accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                payload = res.read()
        except urllib.error.HTTPError as err:
            text = err.read().decode("utf-8", "replace")
            try:
                e = json.loads(text)
                raise ApiError(err.code, e.get("message", text), e.get("field")) from None
            except ValueError:
                raise ApiError(err.code, text) from None
        return payload if raw else json.loads(payload)

    def openapi(self):
        return self._request("GET", "/api/openapi.json")

    def health(self):
        return self._request("GET", "/api/health")

    def instruments(self):
        return self._request("GET", "/api/instruments")

    def sequences(self):
        return self._request("GET", "/api/sequences")

    def runs(self, dut=None, sequence=None, outcome=None, limit=None):
        q = {k: v for k, v in {"dut": dut, "sequence": sequence, "outcome": outcome, "limit": limit}.items() if v is not None}
        return self._request("GET", "/api/runs" + (f"?{urllib.parse.urlencode(q)}" if q else ""))

    def run(self, run_id):
        """The run record (RUNNING while it goes)."""
        return self._request("GET", f"/api/runs/{urllib.parse.quote(run_id, safe='')}")

    def export(self, run_id, fmt="csv"):
        """A report of a stored run as bytes: json, csv (the tidy long table), junit or html."""
        return self._request("GET", f"/api/runs/{urllib.parse.quote(run_id, safe='')}/export?format={fmt}", raw=True)

    def start_run(self, sequence, dut, operator, params=None):
        body = {"sequence": sequence, "dut": dut, "operator": operator}
        if params is not None:
            body["params"] = params
        return self._request("POST", "/api/runs", body)["id"]

    def abort(self, run_id):
        return self._request("POST", f"/api/runs/{urllib.parse.quote(run_id, safe='')}/abort")

    def answer(self, run_id, prompt_id, answer, by="python"):
        path = f"/api/runs/{urllib.parse.quote(run_id, safe='')}/prompts/{urllib.parse.quote(prompt_id, safe='')}"
        return self._request("POST", path, {"answer": answer, "by": by})

    def wait(self, run_id, timeout=3600.0, poll=0.5):
        """Polls until the run is no longer RUNNING; returns its record."""
        deadline = time.monotonic() + timeout
        while True:
            rec = self.run(run_id)
            if rec.get("outcome") != "RUNNING":
                return rec
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still RUNNING after {timeout} s")
            time.sleep(poll)

    # --- live events: a minimal WebSocket reader (RFC 6455 text frames) ---
    def events(self, since=None, timeout=None):
        """Yields the server's messages: first a snapshot (or a resume), then each event with seq and ts."""
        u = urllib.parse.urlparse(self.url)
        if u.scheme != "http":
            raise ValueError("events() speaks plain ws:// only (http:// URLs)")
        query = {}
        if since is not None:
            query["since"] = str(since)
        if self.token:
            query["token"] = self.token
        path = "/ws" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        sock = socket.create_connection((u.hostname, u.port or 80), timeout=timeout or self.timeout)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            sock.sendall(
                (
                    f"GET {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port or 80}\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                ).encode()
            )
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ConnectionError("the server closed the connection during the WebSocket handshake")
                buf += chunk
            head, buf = buf.split(b"\r\n\r\n", 1)
            status = head.split(b"\r\n", 1)[0].decode()
            if " 101 " not in status + " ":
                raise ApiError(int(status.split()[1]), f"WebSocket refused: {status}")
            sock.settimeout(timeout)

            def read(n):
                nonlocal buf
                while len(buf) < n:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise EOFError
                    buf += chunk
                out, buf = buf[:n], buf[n:]
                return out

            message = b""
            while True:
                try:
                    b0, b1 = read(2)
                except EOFError:
                    return
                n = b1 & 0x7F
                if n == 126:
                    n = int.from_bytes(read(2), "big")
                elif n == 127:
                    n = int.from_bytes(read(8), "big")
                mask = read(4) if b1 & 0x80 else None
                payload = read(n)
                if mask:
                    payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
                op = b0 & 0x0F
                if op == 0x8:  # close
                    return
                if op == 0x9:  # ping: answer with a masked pong
                    m = os.urandom(4)
                    sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + m + bytes(c ^ m[i % 4] for i, c in enumerate(payload)))
                    continue
                if op in (0x1, 0x0):
                    message += payload
                    if b0 & 0x80:
                        yield json.loads(message)
                        message = b""
        finally:
            sock.close()
