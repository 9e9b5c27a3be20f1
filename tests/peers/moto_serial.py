"""moto's server, serving one request at a time.

DynamoDB runs transactions with serializable isolation. moto's own server is threaded and
checks a TransactWriteItems' conditions without a lock, so two concurrent transactions on one
item can both pass its conditions there. Serving requests one by one gives the isolation that
DynamoDB gives, while the tests still send their requests concurrently.

KMS refuses to use a key that is disabled (DisabledException) or pending deletion
(KMSInvalidStateException), and a key policy can deny a caller Decrypt or GenerateDataKey
(AccessDeniedException). moto 5.2 records a key's state and policy but checks neither for these
two operations (its basic policy evaluation covers DescribeKey only), so this server adds those
checks, with moto's own policy evaluation (a Deny statement on "*" for the action), and changes
nothing else.

Usage: moto_serial.py HOST PORT
"""
import sys

from moto.core.exceptions import JsonRESTError
from moto.kms import policy_validator
from moto.kms.models import KmsBackend
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


class DisabledException(JsonRESTError):
    code = 400

    def __init__(self, arn: str):
        super().__init__("DisabledException", f"{arn} is disabled.")


class KMSInvalidStateException(JsonRESTError):
    code = 400

    def __init__(self, arn: str):
        super().__init__("KMSInvalidStateException", f"{arn} is pending deletion.")


policy_validator.ALTERNATIVE_ACTIONS["kms:Decrypt"] = ["kms:*", "kms:Decrypt"]
policy_validator.ALTERNATIVE_ACTIONS["kms:GenerateDataKey"] = [
    "kms:*",
    "kms:GenerateDataKey*",
    "kms:GenerateDataKey",
]


def check_usable(backend: KmsBackend, key_id: str, action: str) -> None:
    """Refuses `action` with the key as KMS does when it is not enabled or its policy denies."""
    key = backend.keys[backend.any_id_to_key_id(key_id)]
    if key.key_state == "Disabled":
        raise DisabledException(key.arn)
    if key.key_state == "PendingDeletion":
        raise KMSInvalidStateException(key.arn)
    policy_validator.validate_policy(key, action)


moto_decrypt = KmsBackend.decrypt
moto_generate_data_key = KmsBackend.generate_data_key


def decrypt(self, ciphertext_blob, encryption_context, key_id=None):
    # The key is the one the ciphertext names: known once moto has read it.
    plaintext, arn = moto_decrypt(self, ciphertext_blob, encryption_context, key_id)
    check_usable(self, arn, "kms:Decrypt")
    return plaintext, arn


def generate_data_key(self, key_id, encryption_context, number_of_bytes, key_spec):
    check_usable(self, key_id, "kms:GenerateDataKey")
    return moto_generate_data_key(self, key_id, encryption_context, number_of_bytes, key_spec)


KmsBackend.decrypt = decrypt
KmsBackend.generate_data_key = generate_data_key

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)
