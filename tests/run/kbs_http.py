# Test server for tests/run/kbs_client.sh (not a test itself): replies that a
# key broker could send, to drive cocoon's small HTTP client. Modes by path.
import http.server, socketserver, ssl, sys, time

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, body, chunked=False, extra=(), step=7):
        self.send_response(code)
        for k, v in extra: self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked"); self.end_headers()
            for i in range(0, len(body), step):
                part = body[i:i+step]
                self.wfile.write(b"%x;ext=1\r\n" % len(part) + part + b"\r\n")
            self.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def do_GET(self):
        p = self.path
        if p.endswith("/chunked/kbs/v0/resource-policy"):
            self.send(200, b"chunked policy text, several chunks long\n", chunked=True)
        elif p.endswith("/big/kbs/v0/resource-policy"):
            self.send(200, b"x" * (5 * 1024 * 1024))
        elif p.endswith("/bigchunk/kbs/v0/resource-policy"):
            self.send(200, b"y" * (5 * 1024 * 1024), chunked=True, step=4096)
        elif p.endswith("/slow/kbs/v0/resource-policy"):
            time.sleep(4); self.send(200, b"late\n")
        elif p.endswith("/truncated/kbs/v0/resource-policy"):
            self.send_response(200); self.send_header("Content-Length", "100"); self.end_headers()
            self.wfile.write(b"short"); self.close_connection = True
        elif p.endswith("/auth/kbs/v0/resource-policy"):
            ok = self.headers.get("Authorization", "").startswith("Bearer ey")
            self.send(200 if ok else 401, b"bearer ok\n" if ok else b"no token\n")
        else:
            self.send(404, b'{"type":"https://github.com/confidential-containers/kbs/errors/PluginNotFound","detail":"x"}')
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0")); body = self.rfile.read(n)
        if self.path.endswith("/kbs/v0/auth"):
            code = {"/down": 503, "/deny": 401}.get(self.path[:-len("/kbs/v0/auth")], 200)
            self.send(code, b'{"type":"https://github.com/confidential-containers/kbs/errors/AttestationError","detail":"test says %d"}' % code)
        else:
            self.send(200, b"got %d bytes\n" % len(body))

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = S(("127.0.0.1", 0), H)
if len(sys.argv) > 2:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
