"""A fake Kubernetes API server for the EPC reconciler tests: HTTPS on
127.0.0.1 with a throw-away self-signed certificate, bearer-token auth, one
Node object, and a record of every request (method, path, headers, body).
Only GET /api/v1/nodes/NAME and PATCH /api/v1/nodes/NAME/status (JSON merge
patch) are implemented, which is all the reconciler uses."""
import http.server
import json
import os
import ssl
import subprocess
import threading


def make_cert(directory):
    """A P-256 self-signed certificate for IP 127.0.0.1; returns (cert, key) paths."""
    cert, key = os.path.join(directory, "apiserver.crt"), os.path.join(directory, "apiserver.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=fake-apiserver",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return cert, key


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


class FakeApiServer:
    def __init__(self, cert, key, token, node="node-1", capacity=None, port=0, forbid=False):
        self.token = token
        self.node = node
        self.forbid = forbid
        self.lock = threading.Condition()
        self.requests = []
        self.obj = {"kind": "Node", "apiVersion": "v1", "metadata": {"name": node},
                    "status": {"capacity": dict(capacity or {"cpu": "8", "memory": "32Gi"})}}
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def status(self, code, reason, message):
                self.reply(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                                  "reason": reason, "code": code})

            def handle_one(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake.lock:
                    fake.requests.append({"method": method, "path": self.path, "headers": dict(self.headers),
                                          "body": body})
                    fake.lock.notify_all()
                if self.headers.get("Authorization") != "Bearer " + fake.token:
                    return self.status(401, "Unauthorized", "Unauthorized")
                if fake.forbid:
                    return self.status(403, "Forbidden", 'nodes "%s" is forbidden: User "system:serviceaccount:'
                                       'cocoon-system:cocoon-sgx-plugin" cannot patch resource "nodes/status"'
                                       % fake.node)
                base = "/api/v1/nodes/" + fake.node
                if method == "GET" and self.path == base:
                    with fake.lock:
                        return self.reply(200, fake.obj)
                if method == "PATCH" and self.path == base + "/status":
                    if self.headers.get("Content-Type") != "application/merge-patch+json":
                        return self.status(415, "UnsupportedMediaType", "unsupported patch type")
                    patch = json.loads(body)
                    with fake.lock:
                        fake.obj["status"] = merge_patch(fake.obj["status"], patch.get("status", {}))
                        return self.reply(200, fake.obj)
                if self.path.startswith("/api/v1/nodes/"):
                    return self.status(404, "NotFound", 'nodes "%s" not found' % self.path.split("/")[4])
                return self.status(404, "NotFound", "the server could not find the requested resource")

            def do_GET(self):
                self.handle_one("GET")

            def do_PATCH(self):
                self.handle_one("PATCH")

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def capacity(self):
        with self.lock:
            return dict(self.obj["status"]["capacity"])

    def set_capacity(self, name, value):
        """What a restarting kubelet does to extended resources it does not own (kubernetes#64784)."""
        with self.lock:
            if value is None:
                self.obj["status"]["capacity"].pop(name, None)
            else:
                self.obj["status"]["capacity"][name] = value

    def patches(self):
        with self.lock:
            return [r for r in self.requests if r["method"] == "PATCH"]

    def wait_patches(self, n, timeout):
        with self.lock:
            ok = self.lock.wait_for(lambda: len([r for r in self.requests if r["method"] == "PATCH"]) >= n, timeout)
            return ok

    def wait_requests(self, n, timeout):
        with self.lock:
            return self.lock.wait_for(lambda: len(self.requests) >= n, timeout)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
