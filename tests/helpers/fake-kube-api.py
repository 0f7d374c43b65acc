#!/usr/bin/env python3
"""fake-kube-api.py DIR TOKEN NODE... - a small stand-in for the Kubernetes API server, enough
for flightdeck-label-node.sh: GET and PATCH of /api/v1/nodes/NAME (a JSON merge patch,
RFC 7386, applied to the node it keeps), and the discovery documents kubectl reads first
(/api, /api/v1, /apis). HTTPS with DIR/tls.crt and DIR/tls.key when they exist, else HTTP.
It listens on a free loopback port and writes it to DIR/port; every request goes to
DIR/requests.jsonl (method, path, the Authorization and Content-Type headers, the body), so
the test sees what was sent. A wrong bearer token is answered 401, a content type other than
application/merge-patch+json 415, an unknown node 404, the node "forbidden" 403: each as
the API server does, a Status object with a message.
"""
import json
import os
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR, TOKEN, NAMES = sys.argv[1], sys.argv[2], sys.argv[3:]
NODES = {n: {"apiVersion": "v1", "kind": "Node",
             "metadata": {"name": n, "labels": {"kubernetes.io/hostname": n}}}
         for n in NAMES + ["forbidden"]}
DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "x"}]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node",
         "verbs": ["get", "list", "patch", "update"], "shortNames": ["no"]}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
}


def merge(target, patch):
    """RFC 7386: null deletes, objects merge, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    target = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge(target.get(k), v)
    return target


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, doc):
        data = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status(self, code, reason, message):
        self.reply(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                          "message": message, "reason": reason, "code": code})

    def record(self, body):
        with open(os.path.join(DIR, "requests.jsonl"), "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "authorization": self.headers.get("Authorization"),
                                "content_type": self.headers.get("Content-Type"),
                                "body": body}) + "\n")

    def node(self):
        path = self.path.split("?")[0]
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.status(401, "Unauthorized", "Unauthorized")
            return None
        if not path.startswith("/api/v1/nodes/"):
            self.status(404, "NotFound", f"the server could not find the requested resource")
            return None
        name = path[len("/api/v1/nodes/"):]
        if name == "forbidden":
            self.status(403, "Forbidden", f'nodes "{name}" is forbidden: User "system:serviceaccount:'
                        f'kube-system:flightdeck-node" cannot patch resource "nodes"')
            return None
        if name not in NODES:
            self.status(404, "NotFound", f'nodes "{name}" not found')
            return None
        return name

    def do_GET(self):
        self.record(None)
        path = self.path.split("?")[0]
        if path in DISCOVERY:
            self.reply(200, DISCOVERY[path])
            return
        name = self.node()
        if name:
            self.reply(200, NODES[name])

    def do_PATCH(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.record(body)
        name = self.node()
        if not name:
            return
        if self.headers.get("Content-Type", "").split(";")[0] != "application/merge-patch+json":
            self.status(415, "UnsupportedMediaType",
                        f"the body of the request was in an unknown format: "
                        f"{self.headers.get('Content-Type')}")
            return
        try:
            patch = json.loads(body)
        except ValueError as e:
            self.status(400, "BadRequest", f"error decoding patch: {e}")
            return
        NODES[name] = merge(NODES[name], patch)
        self.reply(200, NODES[name])


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    crt, key = os.path.join(DIR, "tls.crt"), os.path.join(DIR, "tls.key")
    if os.path.exists(crt):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(DIR, "port.tmp"), "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
