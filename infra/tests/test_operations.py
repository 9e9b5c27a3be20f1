"""Each function's role grants exactly what its code asks of AWS: none missing, none unused.

What the code asks is recorded by the end-to-end tests against moto (`tests/src/aws_ops.rs`):
every request a function's handler makes, as the IAM action it needs, with the table or index,
the partition key's entity prefix (`INV#`, `CON#`, …) and, for KMS, the encryption context's
`kind`. `make test` runs the end-to-end tests before these, and sets
CARTLINK_REQUIRE_AWS_OPERATIONS so that missing recordings fail rather than skip.

What the code does not ask is left out of the comparison, each for its reason:
- `Logs`, `Tracing`: the Lambda runtime writes logs and traces, not our code;
- `Config` (`ssm:GetParameter`): read once at start, outside any handler
  (`tests/tests/aws_deploy.rs::a_function_reads_its_secrets_from_the_securestring_parameter`);
- `Stream`, `ListStreams`, `ConsumeDeliveries`, `FailedBatches`, `FailedEvents`: Lambda's event
  source mappings read the stream and the queue and send failed batches with the function's
  role; our code never calls them.
"""

import json
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

from test_template import FUNCTIONS, RES, as_list, logical_id, ref_name

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "target" / "aws-operations"
NOT_CODE = {"Logs", "Tracing", "Config", "Stream", "ListStreams", "ConsumeDeliveries",
            "FailedBatches", "FailedEvents"}
# The table's own ARN and its indexes, as the template names them.
TABLE = "table"


# Grants whose code path runs in the end-to-end tests on the embedded store only, not yet on moto:
# each is needed by the path named, so it stays granted, and the test below requires this list
# to be exactly what goes unused (a path later tested on moto must leave it).
UNTESTED_ON_MOTO = {
    "cart-events": {
        ("dynamodb:PutItem", TABLE, None): "the disconnection record and history step of a revoke",
        ("dynamodb:DeleteItem", TABLE, "CON#"): "an uninstall deletes the shop's connections",
        ("dynamodb:DeleteItem", TABLE, "LEASE#"): "a failed delivery releases its lease",
        ("ses:SendEmail", None, None): "the warehouse's notice of a revoke",
    },
    "connection-tokens": {
        ("ses:SendEmail", None, None): "the needs_reauth notice after a refresh's invalid_grant",
    },
    "webhooks": {
        ("ses:SendEmail", None, None): "the notice to the warehouse when its endpoint answers 410",
    },
    "grant-page": {
        ("dynamodb:DeleteItem", TABLE, "CON#"): "a merchant's withdrawal (manage page)",
    },
    "warehouse-api": {
        ("dynamodb:ConditionCheckItem", TABLE, None): "a reconnect's or a reissue's fresh link (add_link)",
        ("dynamodb:DeleteItem", TABLE, "IDEM#"): "an Idempotency-Key answer not kept (5xx, 429)",
        ("dynamodb:DeleteItem", TABLE, "CARTAPP#"): "a warehouse removes its own app at a cart",
    },
    "care": {
        ("dynamodb:GetItem", TABLE, "CARTAPP#"): "the refresh of a connection made through a warehouse's own app",
    },
}

# The key policy's grants under `kind = cart-app-secret` (a warehouse's own app secret at a cart):
# each is used by a grant or connection made through such an app, whose flows run end to end on
# the embedded adapters (tests/tests/cart_apps.rs) and whose store runs on moto in the port
# contract (tests/tests/port_contracts/cart_apps.rs), but no handler takes that path on moto yet.
OWN_APP_PATH = "a grant or connection through a warehouse's own app, not yet run on moto"
UNTESTED_KMS_ON_MOTO = {
    "warehouse-api": {
        ("kms:GenerateDataKey", "cart-app-secret"): "PUT /v1/cart-apps seals the app secret",
        ("kms:Decrypt", "cart-app-secret"): OWN_APP_PATH + " (a disconnect's revocation)",
    },
    "oauth-callback": {("kms:Decrypt", "cart-app-secret"): OWN_APP_PATH + " (the exchange)"},
    "connection-tokens": {("kms:Decrypt", "cart-app-secret"): OWN_APP_PATH + " (a refresh)"},
    "care": {("kms:Decrypt", "cart-app-secret"): OWN_APP_PATH + " (care's refresh)"},
    "cart-events": {("kms:Decrypt", "cart-app-secret"): OWN_APP_PATH + " (its Shopify webhook)"},
}


def recorded():
    """{function: [record, …]} from every recording file."""
    files = sorted(RECORDINGS.glob("*.jsonl")) if RECORDINGS.exists() else []
    if not files:
        if os.environ.get("CARTLINK_REQUIRE_AWS_OPERATIONS"):
            pytest.fail(f"no recordings under {RECORDINGS}: the end-to-end tests record them")
        pytest.skip("no recordings: run the end-to-end tests first (make e2e)")
    by_function = defaultdict(list)
    for f in files:
        for line in f.read_text().splitlines():
            r = json.loads(line)
            by_function[r["function"]].append(r)
    return by_function


def role_of(function):
    return ref_name(RES[logical_id(function)]["Properties"]["Role"])


def code_statements(role):
    for policy in RES[role]["Properties"].get("Policies", []):
        for st in as_list(policy["PolicyDocument"]["Statement"]):
            if st.get("Sid") not in NOT_CODE:
                yield st


def resource_kind(resource):
    """`table` or `index/<name>` for a DynamoDB resource of the template; None otherwise."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return TABLE if ref_name(resource) == "Table" else None
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = resource["Fn::Sub"] if isinstance(resource["Fn::Sub"], str) else resource["Fn::Sub"][0]
        m = re.fullmatch(r"\$\{Table\.Arn\}/index/(\w+)", text)
        return f"index/{m.group(1)}" if m else None
    return None


def leading_keys(st):
    """The entity prefixes a statement's `dynamodb:LeadingKeys` allows, or None for any."""
    cond = st.get("Condition", {}).get("ForAllValues:StringLike", {})
    keys = cond.get("dynamodb:LeadingKeys")
    return None if keys is None else {k.rstrip("*") for k in as_list(keys)}


def granted(function):
    """{(action, resource, key prefix or None)} the role grants to the code, and the
    non-DynamoDB actions."""
    grants = set()
    for st in code_statements(role_of(function)):
        keys = leading_keys(st)
        for action in as_list(st["Action"]):
            if not action.startswith("dynamodb:"):
                grants.add((action, None, None))
                continue
            for res in as_list(st["Resource"]):
                kind = resource_kind(res)
                assert kind, (function, st.get("Sid"), res)
                for key in sorted(keys) if keys is not None else [None]:
                    grants.add((action, kind, key))
    return grants


def used(records):
    """The grants the records need: DynamoDB with resource and prefix, the rest by action."""
    out = set()
    for r in records:
        if r["action"].startswith("kms:"):
            continue
        if r["action"].startswith("dynamodb:"):
            out.add((r["action"], r["resource"], r.get("key")))
        else:
            out.add((r["action"], None, None))
    return out


def covers(grant, need):
    action, resource, key = grant
    return action == need[0] and resource == need[1] and (key is None or key == need[2])


def compare(function, grants, needs):
    missing = sorted(n for n in needs if not any(covers(g, n) for g in grants))
    unused = sorted(g for g in grants if not any(covers(g, n) for n in needs))
    return missing, unused


def key_grants(function):
    """{(action, kind)} the token key's policy grants the function's role."""
    role = role_of(function)
    out = set()
    for st in as_list(RES["TokenKey"]["Properties"]["KeyPolicy"]["Statement"]):
        if "Fn::If" in st:
            continue  # the optional extra reader: no function of ours
        principals = [ref_name(p) for p in as_list(st["Principal"].get("AWS", []))]
        if role not in principals:
            continue
        kind = st.get("Condition", {}).get("StringEquals", {}).get("kms:EncryptionContext:kind")
        for action in as_list(st["Action"]):
            out.add((action, kind))
    return out


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_role_grants_exactly_the_table_and_service_operations_its_code_asks(function):
    # GIVEN what the function's handlers asked of AWS in the end-to-end tests
    records = recorded()
    assert records.get(function), f"no recorded request of {function}: is its handler tested on moto?"
    # WHEN compared with its role's statements (key prefixes included)
    missing, unused = compare(function, granted(function), used(records[function]))
    # THEN nothing it asks is missing, and nothing granted goes unused but the paths not yet
    # tested on moto
    assert missing == []
    assert unused == sorted(UNTESTED_ON_MOTO.get(function, {}))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_key_policy_grants_exactly_the_kms_operations_its_code_asks(function):
    # GIVEN the KMS calls the function made, each with its encryption context's kind
    needs = {(r["action"], r["kind"]) for r in recorded()[function] if r["action"].startswith("kms:")}
    # WHEN compared with the key policy's statements naming its role
    grants = key_grants(function)
    # THEN every call is granted for its kind, and every grant is used but the paths not yet
    # run on moto
    assert {n for n in needs if n not in grants} == set()
    assert {g for g in grants if g not in needs} == set(UNTESTED_KMS_ON_MOTO.get(function, {}))


# The keys a sealing context may have: which record a blob belongs to, by opaque ids.
# (`account_hash`: the SHA-256 of the account a site's uninstall subscription is at.)
CONTEXT_KEYS = {"app", "kind", "warehouse", "warehouse_id", "connection_id", "cart", "endpoint", "record", "account_hash"}


def test_every_encryption_context_used_holds_known_keys_with_opaque_values():
    # GIVEN every KMS call any function made in the end-to-end tests
    calls = [r for rs in recorded().values() for r in rs if r["action"].startswith("kms:")]
    assert calls, "the end-to-end tests seal and open on moto"
    # THEN each context has known keys only, and every value is an opaque id or name
    assert [c for c in calls if not set(c["context_keys"]) <= CONTEXT_KEYS] == []
    assert [c for c in calls if not c["opaque"]] == []


def test_the_comparison_reports_a_grant_nobody_uses_and_a_call_nobody_grants():
    # GIVEN a role that grants DeleteItem on invites and a code that also reads connections
    grants = {("dynamodb:GetItem", TABLE, "INV#"), ("dynamodb:DeleteItem", TABLE, "INV#")}
    needs = {("dynamodb:GetItem", TABLE, "INV#"), ("dynamodb:GetItem", TABLE, "CON#")}
    # WHEN compared
    missing, unused = compare("any", grants, needs)
    # THEN both are reported
    assert missing == [("dynamodb:GetItem", TABLE, "CON#")]
    assert unused == [("dynamodb:DeleteItem", TABLE, "INV#")]
