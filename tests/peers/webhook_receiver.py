"""A warehouse's webhook receiver, written with the Standard Webhooks reference library
(PyPI `standardwebhooks`, pinned in the Makefile), not with cartlink's code.

    webhook_receiver.py PORT

POST /hook takes a delivery: it is verified with every configured secret (one verifying is
enough, as during a rotation) and logged; the answer follows the control: the first
`fail_first` deliveries get `fail_status`, the first `hang_first` hang `hang_secs` seconds
first, `always_status` (if set) answers every one. POST /_control sets the control (JSON);
GET /_log answers every delivery seen, oldest first: id, timestamp, type, verified, body.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()
CONTROL = {"secrets": [], "fail_first": 0, "fail_status": 500, "hang_first": 0,
           "hang_secs": 0, "always_status": None}
LOG = []


def verify(body, headers):
    for secret in CONTROL["secrets"]:
        try:
            Webhook(secret).verify(body, headers)
            return True
        except WebhookVerificationError:
            continue
    return False


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, payload=b""):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def body(self):
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                self.answer(200, json.dumps(LOG).encode())
        else:
            self.answer(404)

    def do_POST(self):
        raw = self.body()
        if self.path == "/_control":
            with LOCK:
                CONTROL.update(json.loads(raw))
            self.answer(204)
            return
        if self.path != "/hook":
            self.answer(404)
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        with LOCK:
            verified = verify(raw.decode(), headers)
            try:
                kind = json.loads(raw).get("type")
            except ValueError:
                kind = None
            n = len(LOG)
            LOG.append({"id": headers.get("webhook-id"),
                        "timestamp": headers.get("webhook-timestamp"),
                        "type": kind, "verified": verified, "body": raw.decode()})
            hang = CONTROL["hang_secs"] if n < CONTROL["hang_first"] else 0
            if CONTROL["always_status"]:
                status = CONTROL["always_status"]
            elif n < CONTROL["fail_first"]:
                status = CONTROL["fail_status"]
            else:
                status = 200 if verified else 401
        if hang:
            time.sleep(hang)
        self.answer(status)


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A sender killed mid-request (the SIGKILL test) is expected, not an error.
        pass


if __name__ == "__main__":
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    print("listening", flush=True)
    server.serve_forever()
