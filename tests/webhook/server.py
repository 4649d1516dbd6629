"""An HTTPS admission webhook for the tests: answers admission.k8s.io/v1 AdmissionReviews.

  /deny    refuses ConfigMaps labelled webhook-deny=yes (create/update) and the deletion of
           ConfigMaps labelled webhook-protect=yes, with a warning on every answer
  /mutate  labels Pods webhook-mutated=yes (a JSONPatch)
  /annotate annotates Pods webhook-annotated=yes
  /slow    answers after 3 s
  /refuse  refuses everything

Every review is appended to the log file as one JSON line. Usage:
  server.py CERT KEY LOG [ADDRESS]   (prints the port it listens on, ADDRESS 127.0.0.1 by default)
"""

import base64
import json
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CERT, KEY, LOG = sys.argv[1:4]
ADDRESS = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"


def labels(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        review = json.loads(body)
        req = review["request"]
        path, _, query = self.path.partition("?")
        with open(LOG, "a") as f:
            f.write(json.dumps({"path": path, "query": query, "request": req}) + "\n")
        resp = {"uid": req["uid"], "allowed": True}
        if path == "/deny":
            resp["warnings"] = ["checked by the deny webhook"]
            if req["operation"] in ("CREATE", "UPDATE") and labels(req["object"]).get("webhook-deny") == "yes":
                resp["allowed"] = False
                resp["status"] = {"code": 403, "reason": "Forbidden",
                                  "message": "configmaps labelled webhook-deny are not allowed"}
            if req["operation"] == "DELETE" and labels(req["oldObject"]).get("webhook-protect") == "yes":
                resp["allowed"] = False
                resp["status"] = {"code": 403, "message": "this configmap is protected"}
        elif path == "/mutate":
            if labels(req["object"]):
                patch = [{"op": "add", "path": "/metadata/labels/webhook-mutated", "value": "yes"}]
            else:
                patch = [{"op": "add", "path": "/metadata/labels", "value": {"webhook-mutated": "yes"}}]
            resp["patchType"] = "JSONPatch"
            resp["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
        elif path == "/annotate":
            meta = req["object"].get("metadata") or {}
            if meta.get("annotations"):
                patch = [{"op": "add", "path": "/metadata/annotations/webhook-annotated", "value": "yes"}]
            else:
                patch = [{"op": "add", "path": "/metadata/annotations", "value": {"webhook-annotated": "yes"}}]
            resp["patchType"] = "JSONPatch"
            resp["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
        elif path == "/refuse":
            resp["allowed"] = False
            resp["status"] = {"code": 403, "reason": "Forbidden", "message": "refused by the test webhook"}
        elif path == "/slow":
            time.sleep(3)
        out = json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                          "response": resp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


server = ThreadingHTTPServer((ADDRESS, 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
