"""moto's server, handling one request at a time.

moto's own `moto_server` serves requests on many threads, and its DynamoDB backend takes no lock,
so two concurrent conditional writes (or TransactWriteItems) can both pass their conditions:
AWS makes each conditional write atomic, moto under load does not, and the concurrency tests of
tests/tests/aws_flow.rs then fail now and then. Running every request under one lock gives the
atomicity AWS guarantees; concurrent clients still interleave request by request.
Usage: python moto_serialized.py HOST PORT
"""

import os
import sys
import threading

from werkzeug.serving import run_simple

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialized(environ, start_response):
        with lock:
            # The body is produced inside the lock, so the whole request is one step.
            return list(app(environ, start_response))

    run_simple(host, port, serialized, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
