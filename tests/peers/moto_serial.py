"""moto's server, serving one request at a time.

DynamoDB runs transactions with serializable isolation. moto's own server is threaded and
checks a TransactWriteItems' conditions without a lock, so two concurrent transactions on one
item can both pass its conditions there. Serving requests one by one gives the isolation that
DynamoDB gives, while the tests still send their requests concurrently.

Usage: moto_serial.py HOST PORT
"""
import sys

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)
