"""The security properties of the deployment, asserted on the template transformed to plain
CloudFormation (what CloudFormation will actually create), plus the SAM source where the
transform drops what is checked (CodeUri, build method).

Run by `make infra-check` (pytest from .venv-infra).
"""

import copy
import fnmatch
import json
import os
import re
from pathlib import Path

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

import pytest
from samtranslator.yaml_helper import yaml_parse

from transform import NoManagedPolicies, placeholder_code, transform

ROOT = Path(__file__).resolve().parents[2]
SAM = yaml_parse((ROOT / "infra/template.yaml").read_text())
CFN = transform(
    placeholder_code(copy.deepcopy(SAM)), {}, NoManagedPolicies(), passthrough_metadata=True
)
RES = CFN["Resources"]

CRATES = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "Cargo.toml").exists())

# The functions the template deploys: one per crate under functions/ (checked below).
FUNCTIONS = [
    "admin-api",
    "care",
    "cart-events",
    "confirmation",
    "connection-tokens",
    "grant-page",
    "mail-events",
    "oauth-callback",
    "warehouse-api",
    "webhooks",
]

# Actions AWS offers no resource-level permission for: the only ones allowed on "*".
UNSCOPABLE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}

# OAuth tokens: sealed and opened only under their own kind, so a role granted tokens can open
# no kept answer or webhook secret, and the reverse.
TOKEN_CONDITION = {
    "StringEquals": {
        "kms:EncryptionContext:app": "cartlink",
        "kms:EncryptionContext:kind": "oauth-tokens",
    }
}
KEPT_ANSWER_CONDITION = {
    "StringEquals": {
        "kms:EncryptionContext:app": "cartlink",
        "kms:EncryptionContext:kind": "idempotent-answer",
    }
}
WEBHOOK_SECRET_CONDITION = {
    "StringEquals": {
        "kms:EncryptionContext:app": "cartlink",
        "kms:EncryptionContext:kind": "webhook-secret",
    }
}
CART_APP_SECRET_CONDITION = {
    "StringEquals": {
        "kms:EncryptionContext:app": "cartlink",
        "kms:EncryptionContext:kind": "cart-app-secret",
    }
}
CART_SUBSCRIPTION_SECRET_CONDITION = {
    "StringEquals": {
        "kms:EncryptionContext:app": "cartlink",
        "kms:EncryptionContext:kind": "cart-subscription-secret",
    }
}


def of_type(t, resources=RES):
    return {k: v for k, v in resources.items() if v["Type"] == t}


def logical_id(crate):
    return "".join(part.capitalize() for part in crate.split("-")) + "Function"


def as_list(v):
    return v if isinstance(v, list) else [v]


def ref_name(v):
    """The logical id a Ref or GetAtt points at."""
    if isinstance(v, dict):
        if "Ref" in v:
            return v["Ref"]
        if "Fn::GetAtt" in v:
            att = v["Fn::GetAtt"]
            return att[0] if isinstance(att, list) else att.split(".")[0]
    return None


def identity_statements(resources):
    """(role, statement) of every identity policy in the template."""
    for name, role in of_type("AWS::IAM::Role", resources).items():
        for policy in role["Properties"].get("Policies", []):
            for st in as_list(policy["PolicyDocument"]["Statement"]):
                yield name, st
    for name, pol in of_type("AWS::IAM::Policy", resources).items():
        for st in as_list(pol["Properties"]["PolicyDocument"]["Statement"]):
            yield name, st


def unscoped(resources):
    """Statements that reach '*' (or wildcard actions) beyond the documented exceptions."""
    bad = []
    for role, st in identity_statements(resources):
        actions = set(as_list(st["Action"]))
        if any("*" in a for a in actions) or "NotAction" in st or "NotResource" in st:
            bad.append((role, st.get("Sid"), "wildcard action"))
        if any(r == "*" for r in as_list(st["Resource"])) and not actions <= UNSCOPABLE:
            bad.append((role, st.get("Sid"), "Resource *"))
    return bad


# ------------------------------------------------------------------ IAM


def test_every_identity_statement_is_scoped_to_named_resources():
    assert list(identity_statements(RES)), "the template has identity policies"
    assert unscoped(RES) == []


def test_the_scope_check_catches_a_wildcard():
    # GIVEN a template where one role gains dynamodb:* on "*"
    mutated = copy.deepcopy(RES)
    doc = mutated["WarehouseApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    doc["Statement"].append({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"})
    # THEN the check reports it
    assert ("WarehouseApiRole", None, "wildcard action") in unscoped(mutated)
    assert ("WarehouseApiRole", None, "Resource *") in unscoped(mutated)


def test_roles_carry_no_managed_policy_and_no_kms_permission():
    for name, role in of_type("AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in role["Properties"], name
    for role, st in identity_statements(RES):
        assert not any(a.startswith("kms:") for a in as_list(st["Action"])), (role, st)


def test_the_template_deploys_exactly_one_function_per_crate():
    deployed = sorted(
        Path(f["Properties"]["CodeUri"]).name
        for f in of_type("AWS::Serverless::Function", SAM["Resources"]).values()
    )
    assert deployed == FUNCTIONS
    assert CRATES == FUNCTIONS, {
        "crates without a function": sorted(set(CRATES) - set(FUNCTIONS)),
        "functions without a crate": sorted(set(FUNCTIONS) - set(CRATES)),
    }


def test_each_function_has_its_own_role():
    roles = [ref_name(f["Properties"]["Role"]) for f in of_type("AWS::Lambda::Function").values()]
    assert sorted(roles) == sorted(logical_id(f).replace("Function", "Role") for f in FUNCTIONS)
    assert len(roles) == len(set(roles)) == len(FUNCTIONS)


def role_actions(role):
    """Every action of a role's identity policies, with the resources of each statement that
    allows it."""
    out = {}
    for name, st in identity_statements(RES):
        if name == role:
            assert st["Effect"] == "Allow", st
            for action in as_list(st["Action"]):
                out.setdefault(action, []).append(st["Resource"])
    return out


def test_connection_tokens_may_do_exactly_what_the_token_api_needs():
    actions = role_actions("ConnectionTokensRole")
    # GIVEN the token API: reads invite, connection and send record; updates tokens, status,
    # lease and send record; deletes its lease; one email kind; the config parameter
    # THEN exactly those actions, no Query, no PutItem, no index, no stream, no queue
    assert sorted(actions) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:UpdateItem",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ses:SendEmail",
        "ssm:GetParameter",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ]
    for a in ("dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
        assert actions[a] == [{"Fn::GetAtt": ["Table", "Arn"]}], a
    assert [ref_name(r) for r in actions["logs:PutLogEvents"]] == ["ConnectionTokensLogGroup"]
    # it mails exactly like warehouse-api: the same identities and configuration set
    assert actions["ses:SendEmail"] == role_actions("WarehouseApiRole")["ses:SendEmail"]
    # warehouse-api answers GET /v1/invites/{id} with the GetItem it already had, and
    # DELETE /v1/invites/{id} (withdraw) with its conditional UpdateItem
    assert "dynamodb:GetItem" in role_actions("WarehouseApiRole")
    assert "dynamodb:UpdateItem" in role_actions("WarehouseApiRole")


def test_cart_events_may_revoke_and_tell_but_never_open_tokens():
    # GIVEN the cart-events role THEN it reads the table and its account index only, sends
    # mail, and has no KMS or stream permission
    actions = role_actions("CartEventsRole")
    assert "dynamodb:Query" in actions and "dynamodb:DeleteItem" in actions
    assert "ses:SendEmail" in actions
    assert not any(a.startswith("kms:") or a.startswith("dynamodb:GetRecords") for a in actions)
    (queries,) = [
        st
        for role, st in identity_statements(RES)
        if role == "CartEventsRole" and st.get("Sid") == "Queries"
    ]
    assert [r["Fn::Sub"] for r in as_list(queries["Resource"])] == ["${Table.Arn}/index/gsi2"]


def test_only_the_functions_that_need_secrets_may_read_the_config_parameter():
    readers = {
        role
        for role, st in identity_statements(RES)
        if "ssm:GetParameter" in as_list(st["Action"])
    }
    assert readers == {
        "AdminApiRole",
        "WarehouseApiRole",
        "GrantPageRole",
        "OauthCallbackRole",
        "ConnectionTokensRole",
        # the app's client secrets, which verify the carts' webhooks
        "CartEventsRole",
        # the warehouses' notify addresses (an endpoint answering 410 Gone is told)
        "WebhooksRole",
        # the carts' client secrets, which a care refresh sends
        "CareRole",
    }
    for role, st in identity_statements(RES):
        if "ssm:GetParameter" in as_list(st["Action"]):
            assert as_list(st["Action"]) == ["ssm:GetParameter"]
            (arn,) = as_list(st["Resource"])
            assert arn["Fn::Sub"].endswith(":parameter/cartlink/${EnvironmentName}/config")
    for name, fn in of_type("AWS::Lambda::Function").items():
        env = fn["Properties"]["Environment"]["Variables"]
        role = ref_name(fn["Properties"]["Role"])
        assert ("CARTLINK_CONFIG_PARAMETER" in env) == (role in readers), name


def test_environment_variables_hold_names_and_ids_only():
    allowed = {
        "RUST_LOG",
        "CARTLINK_TABLE",
        "CARTLINK_KMS_KEY_ID",
        "CARTLINK_PUBLIC_BASE_URL",
        "CARTLINK_MAIL_FROM",
        "CARTLINK_SES_CONFIGURATION_SET",
        "CARTLINK_HTTP_TIMEOUT_SECS",
        "CARTLINK_CONFIG_PARAMETER",
        "CARTLINK_WEBHOOK_QUEUE_URL",
        "CARTLINK_WEBHOOK_DLQ_URL",
        "CARTLINK_METRICS_NAMESPACE",
    }
    for name, fn in of_type("AWS::Lambda::Function").items():
        env = fn["Properties"]["Environment"]["Variables"]
        assert set(env) <= allowed, (name, set(env) - allowed)


def test_every_function_logs_at_info_so_no_library_logs_a_request_body():
    # GIVEN every deployed function's environment
    levels = {
        name: fn["Properties"]["Environment"]["Variables"].get("RUST_LOG")
        for name, fn in of_type("AWS::Lambda::Function").items()
    }
    # THEN each logs at info: debug or trace would let the HTTP and SDK libraries log requests
    # (with codes, tokens and addresses)
    assert levels and set(levels.values()) == {"info"}, levels


def test_every_function_log_counts_dependency_outages_into_one_alarmed_metric():
    # GIVEN the metric filters on the functions' log groups
    filters = of_type("AWS::Logs::MetricFilter")
    outage_groups = {
        ref_name(f["Properties"]["LogGroupName"])
        for f in filters.values()
        if f["Properties"]["FilterPattern"] == '{ $.alarm = "*" }'
    }
    # THEN every function's log is counted (the field shared/src/telemetry writes)
    assert outage_groups == {logical_id(f).replace("Function", "LogGroup") for f in FUNCTIONS}
    telemetry = (ROOT / "shared/src/telemetry/mod.rs").read_text()
    assert "alarm = alarm::" in (ROOT / "shared/src/mailer/ses.rs").read_text()
    assert "pub mod alarm" in telemetry
    # AND the metric they feed is alarmed at the first outage, to the alarm topic
    alarms = [
        a["Properties"]
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "DependencyOutages"
    ]
    assert len(alarms) == 1 and alarms[0]["Threshold"] == 1
    assert ref_name(alarms[0]["AlarmActions"][0]) == "AlarmTopic"


def test_every_function_logs_json_lines_and_writes_metrics_into_the_stacks_namespace():
    # GIVEN every function as CloudFormation creates it
    for name, fn in of_type("AWS::Lambda::Function").items():
        props = fn["Properties"]
        # THEN it logs in Lambda's JSON format (the metric filters read fields of JSON lines)
        assert props["LoggingConfig"]["LogFormat"] == "JSON", name
        # AND its measures go to the namespace the dashboard and alarms read
        env = props["Environment"]["Variables"]
        assert env["CARTLINK_METRICS_NAMESPACE"] == {"Fn::Sub": "cartlink/${AWS::StackName}"}, name
    # AND every metric filter reads a field of the JSON line, not a word of a text line
    for name, f in of_type("AWS::Logs::MetricFilter").items():
        assert re.fullmatch(r'\{ \$\.\w+ = "[^"]+" \}', f["Properties"]["FilterPattern"]), name


def dashboard_body():
    body = RES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text, variables = body
    filled = text.replace("${Namespace}", "NS").replace("${AWS::Region}", "us-east-1")
    filled = re.sub(r"\$\{(\w+)\}", r"\1", filled)
    return json.loads(filled)


def dashboard_metrics():
    """Each metric line of the dashboard with its "..." shorthand expanded."""
    lines = []
    for widget in dashboard_body()["widgets"]:
        previous = None
        for line in widget["properties"]["metrics"]:
            if line[0] == "...":
                values = [x for x in line[1:] if not isinstance(x, dict)]
                line = previous[: len(previous) - len(values)] + values
            else:
                line = [x for x in line if not isinstance(x, dict)]
            lines.append(line)
            previous = line
    return lines


def test_the_dashboard_shows_every_measure_the_code_writes_and_every_functions_errors():
    # GIVEN the measures shared/src/telemetry/metric.rs names, and the history's step names
    source = (ROOT / "shared/src/telemetry/metric.rs").read_text()
    names = set(re.findall(r'pub const [A-Z_]+: &str = "([A-Z]\w+)";', source))
    assert {"FunnelSteps", "PopupsBlocked", "Refreshes", "ConfirmationLatency"} <= names
    events = (ROOT / "shared/src/domain/event.rs").read_text()
    steps = set(re.findall(r'InviteEventKind::\w+ => "(\w+)"', events))
    lines = dashboard_metrics()
    # THEN each measure is on the dashboard, in the stack's namespace, by Service
    shown = {line[1] for line in lines if line[0] == "NS"}
    assert names <= shown, names - shown
    for line in lines:
        if line[0] == "NS" and line[1] in names:
            assert line[2:4] == ["Service", "cartlink"], line
            # AND every step it names is a step of the history
            if "Step" in line:
                assert line[line.index("Step") + 1] in steps, line
    # AND the funnel's main steps, the filters' metrics and every function's errors are there
    shown_steps = {line[5] for line in lines if line[1] == "FunnelSteps"}
    assert {"created", "opened", "grant_started", "authorized", "confirmed", "failed"} <= shown_steps
    assert {"CallbackRefusals", "RateLimitHits", "DependencyOutages"} <= shown
    errors = {line[3] for line in lines if line[:2] == ["AWS/Lambda", "Errors"]}
    assert errors == {logical_id(f) for f in FUNCTIONS}


def test_refresh_failures_and_slow_confirmations_are_alarmed():
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") in ("Refreshes", "ConfirmationLatency")
    }
    # THEN failed refreshes (by their Outcome) and the slow tail of confirmations are alarmed
    assert {"Name": "Outcome", "Value": "failed"} in alarms["Refreshes"]["Dimensions"]
    assert alarms["ConfirmationLatency"]["ExtendedStatistic"] == "p90"
    for alarm in alarms.values():
        assert {"Name": "Service", "Value": "cartlink"} in alarm["Dimensions"]
        assert ref_name(alarm["AlarmActions"][0]) == "AlarmTopic"


def test_refused_callbacks_are_counted_and_a_burst_is_alarmed():
    # GIVEN the refusal line the callback writes (shared/src/service/callback/mod.rs)
    assert '"callback refused"' in (ROOT / "shared/src/service/callback/mod.rs").read_text()
    filters = [
        f["Properties"]
        for f in of_type("AWS::Logs::MetricFilter").values()
        if f["Properties"]["FilterPattern"] == '{ $.message = "callback refused" }'
    ]
    # THEN the callback's log counts it, and the count is alarmed
    assert [ref_name(f["LogGroupName"]) for f in filters] == ["OauthCallbackLogGroup"]
    alarms = [
        a["Properties"]
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "CallbackRefusals"
    ]
    assert len(alarms) == 1 and ref_name(alarms[0]["AlarmActions"][0]) == "AlarmTopic"


def test_rate_limit_refusals_are_counted_where_limits_run_and_alarmed():
    # GIVEN the line every rate limit writes when it refuses (shared/src/service/limits.rs)
    assert '"rate limit reached"' in (ROOT / "shared/src/service/limits.rs").read_text()
    filters = [
        f["Properties"]
        for f in of_type("AWS::Logs::MetricFilter").values()
        if f["Properties"]["FilterPattern"] == '{ $.message = "rate limit reached" }'
    ]
    # THEN the logs of the functions whose flows run limits count it: the merchant pages'
    # (links, access codes, lost manage links) and the warehouse API's (invites, resends)
    assert sorted(ref_name(f["LogGroupName"]) for f in filters) == [
        "GrantPageLogGroup",
        "WarehouseApiLogGroup",
    ]
    for crate, call in [
        ("grant-page", "grant_page_for"),
        ("grant-page", "redeem_access_code"),
        ("grant-page", "send_lost_manage_links"),
        ("warehouse-api", "create_invite"),
    ]:
        files = (ROOT / "functions" / crate / "src").rglob("*.rs")
        source = "".join(p.read_text() for p in files if not p.name.startswith("tests"))
        assert call in source, (crate, call)
    # AND one metric is alarmed, to the alarm topic
    alarms = [
        a["Properties"]
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "RateLimitHits"
    ]
    assert len(alarms) == 1 and ref_name(alarms[0]["AlarmActions"][0]) == "AlarmTopic"


# ------------------------------------------------------------------ KMS


def key_statements(key):
    return as_list(RES[key]["Properties"]["KeyPolicy"]["Statement"])


# Actions that use a key's material (as opposed to administering the key).
KEY_USES = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
)


def token_key_grants():
    """(condition of the template or None, principal names, actions, key condition) of every
    statement of the token key's policy but the administrators' one."""
    out = []
    admins = 0
    for st in key_statements("TokenKey"):
        only_if = None
        if "Fn::If" in st:
            only_if, st, otherwise = st["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}, st
        assert st["Effect"] == "Allow" and st["Resource"] == "*", st
        actions = as_list(st["Action"])
        assert "kms:*" not in actions and st["Principal"] != "*", st
        if st["Sid"] == "AdministerOnly":
            admins += 1
            assert only_if is None and "Condition" not in st
            assert st["Principal"] == {
                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            }
            # the account root administers the key but may not use it
            for use in KEY_USES:
                assert not any(fnmatch.fnmatchcase(use, a) for a in actions), (use, st)
            continue
        assert set(st["Principal"]) == {"AWS"}, st
        principals = sorted(ref_name(p) for p in as_list(st["Principal"]["AWS"]))
        out.append((only_if, principals, sorted(actions), st.get("Condition")))
    assert admins == 1
    return sorted(out, key=repr)


def test_the_token_key_rotates_and_grants_use_only_under_the_app_context():
    assert RES["TokenKey"]["Properties"]["EnableKeyRotation"] is True
    # GenerateDataKey to the sealers (oauth-callback: new tokens; grant-page: credentials a
    # merchant types; connection-tokens and care: rotated ones), Decrypt to connection-tokens,
    # care (its refresh), warehouse-api (a disconnect revokes the tokens at the cart) and the
    # optional extra reader, GenerateDataKey to warehouse-api only
    # for the answers it keeps for an Idempotency-Key; nothing else, and every grant only under
    # the encryption context app = cartlink and its kind
    assert token_key_grants() == sorted(
        [
            (
                None,
                ["CareRole", "ConnectionTokensRole", "GrantPageRole", "OauthCallbackRole"],
                ["kms:GenerateDataKey"],
                TOKEN_CONDITION,
            ),
            (
                None,
                ["CareRole", "ConnectionTokensRole", "WarehouseApiRole"],
                ["kms:Decrypt"],
                TOKEN_CONDITION,
            ),
            (
                "HasTokenReader",
                ["TokenReaderRoleArn"],
                ["kms:Decrypt"],
                {
                    "StringEquals": {
                        "kms:EncryptionContext:app": "cartlink",
                        "kms:EncryptionContext:kind": "oauth-tokens",
                        "kms:EncryptionContext:warehouse_id": {"Ref": "TokenReaderWarehouseId"},
                    }
                },
            ),
            (
                None,
                ["WarehouseApiRole"],
                ["kms:Decrypt", "kms:GenerateDataKey"],
                KEPT_ANSWER_CONDITION,
            ),
            # webhook signing secrets: sealed by warehouse-api, opened by webhooks, and only
            # under kind = webhook-secret (webhooks can open no token)
            (None, ["WarehouseApiRole"], ["kms:GenerateDataKey"], WEBHOOK_SECRET_CONDITION),
            (None, ["WebhooksRole"], ["kms:Decrypt"], WEBHOOK_SECRET_CONDITION),
            # a warehouse's own app secret: sealed by warehouse-api, opened only where a grant
            # or connection through it talks to the cart, under kind = cart-app-secret
            (None, ["WarehouseApiRole"], ["kms:GenerateDataKey"], CART_APP_SECRET_CONDITION),
            (
                None,
                [
                    "CareRole",
                    "CartEventsRole",
                    "ConnectionTokensRole",
                    "OauthCallbackRole",
                    "WarehouseApiRole",
                ],
                ["kms:Decrypt"],
                CART_APP_SECRET_CONDITION,
            ),
            # a site's uninstall subscription secret: sealed by care, which makes the
            # subscription, opened by cart-events to verify, under kind = cart-subscription-secret
            (None, ["CareRole"], ["kms:GenerateDataKey"], CART_SUBSCRIPTION_SECRET_CONDITION),
            (None, ["CartEventsRole"], ["kms:Decrypt"], CART_SUBSCRIPTION_SECRET_CONDITION),
        ],
        key=repr,
    )
    # the functions that use this key are told which it is
    for fn in ("OauthCallbackFunction", "ConnectionTokensFunction"):
        env = RES[fn]["Properties"]["Environment"]["Variables"]
        assert env["CARTLINK_KMS_KEY_ID"] == {"Fn::GetAtt": ["TokenKey", "Arn"]}, fn


def test_a_token_reader_must_name_its_one_warehouse():
    # GIVEN the optional extra reader THEN a rule refuses a deployment that names its role
    # without its warehouse, and the warehouse id takes only an id's shape
    rule = SAM["Rules"]["TokenReaderNamesItsWarehouse"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "TokenReaderRoleArn"}, ""]}]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "TokenReaderWarehouseId"}, ""]}]
    }
    assert SAM["Parameters"]["TokenReaderWarehouseId"]["AllowedPattern"] == "^([a-z0-9-]{1,64})?$"


def test_the_http_api_allows_no_cross_origin_reads():
    # GIVEN the HTTP API THEN it has no CORS configuration: no route answers another site
    assert "CorsConfiguration" not in SAM["Resources"]["HttpApi"]["Properties"]
    assert "CorsConfiguration" not in RES["HttpApi"]["Properties"]
    assert "x-amazon-apigateway-cors" not in RES["HttpApi"]["Properties"]["Body"]


def test_public_routes_have_throttles_of_their_own():
    stage = RES["HttpApiApiGatewayDefaultStage"]["Properties"]
    routes = stage["RouteSettings"]
    default = stage["DefaultRouteSettings"]
    # GIVEN the routes a merchant is mid-grant on THEN each has its own limit, above the default
    for key in ("GET /oauth/callback/{cart}", "GET /setup/{token}/status"):
        assert routes[key]["ThrottlingRateLimit"] > default["ThrottlingRateLimit"], key
        assert routes[key]["ThrottlingBurstLimit"] >= routes[key]["ThrottlingRateLimit"], key
    # AND the forms anyone can post (access code, lost manage link) are held below it
    for key in ("POST /setup", "POST /manage", "POST /setup/{token}/credentials"):
        assert routes[key]["ThrottlingRateLimit"] < default["ThrottlingRateLimit"], key
    # AND every throttled route is a route of the API
    for key in routes:
        method, path = key.split(" ", 1)
        assert (method.lower(), path) in ROUTES, key


# The optional edge (EdgeCertificateArn): CloudFront with an AWS WAF web ACL in front.
EDGE = ("EdgeWebAcl", "EdgeDistribution")


def rate_rules():
    acl = RES["EdgeWebAcl"]["Properties"]
    return {r["Name"]: r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]}


def prefixes(statement):
    """The (method, path prefix) pairs a scope-down statement matches, as written."""
    found = []
    for match in re.finditer(r"'SearchString': '([^']+)'", str(statement)):
        found.append(match.group(1))
    return found


def test_the_edge_is_optional_and_owns_the_public_domain_alone():
    # GIVEN the edge's resources
    for name in EDGE:
        # THEN each exists only with an edge certificate
        assert RES[name]["Condition"] == "HasEdge", name
    assert CFN["Conditions"]["HasEdge"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "EdgeCertificateArn"}, ""]}]
    }
    # AND the public domain is served by CloudFront or the API's custom domain, never both
    rule = CFN["Rules"]["OneOwnerOfThePublicDomain"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "EdgeCertificateArn"}, ""]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}


def test_the_edge_limits_each_client_address_on_every_merchant_route():
    # GIVEN the web ACL's rate-based rules, in front of CloudFront
    acl = RES["EdgeWebAcl"]["Properties"]
    assert acl["Scope"] == "CLOUDFRONT" and acl["DefaultAction"] == {"Allow": {}}
    rules = rate_rules()
    # THEN each counts per client address over 5 minutes and answers 429
    for name, rule in rules.items():
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == "IP" and rate["EvaluationWindowSec"] == 300, name
        block = rule["Action"]["Block"]["CustomResponse"]
        assert block["ResponseCode"] == 429, name
        assert block["CustomResponseBodyKey"] in acl["CustomResponseBodies"], name
    # AND the forms anyone can post, the callbacks, and every page but the keyed APIs are held
    forms = rules["merchant-forms-per-client"]["Statement"]["RateBasedStatement"]
    assert prefixes(forms["ScopeDownStatement"]) == ["POST", "/setup", "/manage"]
    callbacks = rules["callbacks-per-client"]["Statement"]["RateBasedStatement"]
    assert prefixes(callbacks["ScopeDownStatement"]) == ["/oauth/"]
    pages = rules["merchant-pages-per-client"]["Statement"]["RateBasedStatement"]
    scope = pages["ScopeDownStatement"]
    assert "NotStatement" in scope and prefixes(scope) == ["/v1/", "/admin/"]
    # AND the oauth prefix is where every cart's callback lands (shared/src/web routes)
    assert any(p.startswith("/oauth/") for _, p in ROUTES)
    assert forms["Limit"] < callbacks["Limit"] < pages["Limit"]


def test_one_merchant_polling_a_grant_stays_far_below_the_per_client_limit():
    # GIVEN the grant page's status poll (functions/grant-page/assets/grant.js)
    script = (ROOT / "functions/grant-page/assets/grant.js").read_text()
    poll_ms = int(re.search(r"POLL_MS = (\d+)", script).group(1))
    polls_in_window = 300 * 1000 // poll_ms
    # THEN five merchants behind one address, each polling a whole window, are not held
    pages = rate_rules()["merchant-pages-per-client"]["Statement"]["RateBasedStatement"]
    assert pages["Limit"] >= 5 * polls_in_window


def test_the_edge_serves_the_api_uncached_through_the_web_acl_without_logging_paths():
    # GIVEN the distribution
    config = RES["EdgeDistribution"]["Properties"]["DistributionConfig"]
    # THEN it answers the public domain over TLS 1.2+ only, through the web ACL
    assert config["Aliases"] == [{"Ref": "PublicDomain"}]
    assert ref_name(config["WebACLId"]) == "EdgeWebAcl"
    assert config["ViewerCertificate"]["AcmCertificateArn"] == {"Ref": "EdgeCertificateArn"}
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    # AND its one origin is the HTTP API, over HTTPS
    [origin] = config["Origins"]
    assert origin["DomainName"]["Fn::Sub"].startswith("${HttpApi}.execute-api.")
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert behavior["TargetOriginId"] == origin["Id"]
    # AND nothing is cached (AWS's CachingDisabled), the viewer's cookies, query and headers but
    # Host reach the API (AllViewerExceptHostHeader), every method passes
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
    assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"
    assert {"POST", "DELETE", "PATCH", "PUT"} <= set(behavior["AllowedMethods"])
    # AND no access log is written at the edge: its lines would hold paths and query strings
    # (link tokens, OAuth codes)
    assert "Logging" not in config


def test_the_events_key_rotates_and_is_used_only_through_sqs_by_the_functions():
    assert RES["EventsKey"]["Properties"]["EnableKeyRotation"] is True
    for st in key_statements("EventsKey"):
        assert "kms:*" not in as_list(st["Action"])
        principal = st["Principal"].get("AWS")
        if principal and any(ref_name(p) for p in as_list(principal)):
            assert st["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"].startswith("sqs.")


# ------------------------------------------------------------------ data


def aws_rs_table():
    """The table the moto tests create (tests/src/aws.rs), read from the source."""
    src = (ROOT / "tests/src/aws.rs").read_text()
    body = src[src.index("pub async fn create_table") :]
    body = body[: body.index("\n}\n")]
    return {
        "attributes": re.findall(r'attribute_definitions\(attr\("(\w+)"\)\)', body),
        "keys": re.findall(r'key_schema\(key\("(\w+)", KeyType::(\w+)\)\)', body),
        "indexes": [
            name.lower() for name in re.findall(r"index_name\(shared::store::dynamo::(\w+)\)", body)
        ],
        "ttl": re.search(r'\.attribute_name\("(\w+)"\)', body).group(1),
        "view": re.search(r"StreamViewType::(\w+)", body).group(1),
        "billing": re.search(r"BillingMode::(\w+)", body).group(1),
    }


def test_the_table_matches_the_tests_and_is_protected():
    t = RES["Table"]["Properties"]
    rs = aws_rs_table()
    assert [a["AttributeName"] for a in t["AttributeDefinitions"]] == rs["attributes"]
    assert all(a["AttributeType"] == "S" for a in t["AttributeDefinitions"])
    keys = [(k["AttributeName"], k["KeyType"]) for k in t["KeySchema"]]
    gsis = t["GlobalSecondaryIndexes"]
    for gsi in gsis:
        keys += [(k["AttributeName"], k["KeyType"]) for k in gsi["KeySchema"]]
    assert [(n, k.upper()) for n, k in keys] == [(n, k.upper()) for n, k in rs["keys"]]
    assert [g["IndexName"] for g in gsis] == rs["indexes"] == ["gsi1", "gsi2", "gsi3"]
    assert all(g["Projection"] == {"ProjectionType": "ALL"} for g in gsis)
    assert t["BillingMode"] == "PAY_PER_REQUEST" and rs["billing"] == "PayPerRequest"
    assert t["TimeToLiveSpecification"] == {"AttributeName": rs["ttl"], "Enabled": True}
    assert t["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert rs["view"] == "NewAndOldImages"
    assert t["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert t["SSESpecification"]["SSEEnabled"] is True
    assert RES["Table"]["DeletionPolicy"] == "Retain"


# ------------------------------------------------------------------ stream, DLQ, alarms


def mappings_of(function):
    return [
        m["Properties"]
        for m in of_type("AWS::Lambda::EventSourceMapping").values()
        if ref_name(m["Properties"]["FunctionName"]) == function
    ]


def test_the_confirmation_stream_is_filtered_bounded_and_dead_lettered():
    (p,) = mappings_of("ConfirmationFunction")
    assert ref_name(p["FunctionName"]) == "ConfirmationFunction"
    assert p["EventSourceArn"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert "ReportBatchItemFailures" in p["FunctionResponseTypes"]
    assert p["BisectBatchOnFunctionError"] is True
    assert 0 <= p["MaximumRetryAttempts"] <= 10
    assert 60 <= p["MaximumRecordAgeInSeconds"] < 86400
    assert ref_name(p["DestinationConfig"]["OnFailure"]["Destination"]) == "ConfirmationFailures"
    (flt,) = p["FilterCriteria"]["Filters"]
    pattern = json.loads(flt["Pattern"])
    assert pattern["eventName"] == ["MODIFY"]
    assert pattern["dynamodb"]["NewImage"]["entity"] == {"S": ["invite"]}
    assert pattern["dynamodb"]["NewImage"]["status"] == {"S": ["authorized"]}
    assert pattern["dynamodb"]["OldImage"]["status"] == {"S": [{"anything-but": ["authorized"]}]}


def test_the_webhooks_function_hears_inserted_history_steps_and_its_queue():
    stream, queue = sorted(mappings_of("WebhooksFunction"), key=lambda p: "Queue" in str(p))
    # GIVEN the stream mapping THEN only inserted event items, reported per record, bounded,
    # and dead-lettered
    assert stream["EventSourceArn"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert "ReportBatchItemFailures" in stream["FunctionResponseTypes"]
    assert stream["BisectBatchOnFunctionError"] is True
    assert 0 <= stream["MaximumRetryAttempts"] <= 10
    assert ref_name(stream["DestinationConfig"]["OnFailure"]["Destination"]) == "WebhookStepFailures"
    (flt,) = stream["FilterCriteria"]["Filters"]
    pattern = json.loads(flt["Pattern"])
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["event"]}}}}
    # AND the queue mapping reports per message, on the delivery queue
    assert queue["EventSourceArn"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
    assert "ReportBatchItemFailures" in queue["FunctionResponseTypes"]


def test_the_webhook_queue_outlasts_a_try_and_dead_letters_what_keeps_failing():
    q = RES["WebhookQueue"]["Properties"]
    timeout = RES["WebhooksFunction"]["Properties"]["Timeout"]
    # a message is hidden longer than the function may run (AWS asks for six times)
    assert q["VisibilityTimeout"] >= 6 * timeout
    assert ref_name(q["RedrivePolicy"]["deadLetterTargetArn"]) == "WebhookDeadLetters"
    for name in ("WebhookQueue", "WebhookDeadLetters", "WebhookStepFailures"):
        assert ref_name(RES[name]["Properties"]["KmsMasterKeyId"]) == "EventsKey", name
    alarmed = {
        ref_name(a["Properties"]["Dimensions"][0]["Value"])
        for a in of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    }
    assert {"WebhookDeadLetters", "WebhookStepFailures"} <= alarmed
    # the function is told both queues; warehouse-api the delivery queue (retry, test)
    env = RES["WebhooksFunction"]["Properties"]["Environment"]["Variables"]
    assert ref_name(env["CARTLINK_WEBHOOK_QUEUE_URL"]) == "WebhookQueue"
    assert ref_name(env["CARTLINK_WEBHOOK_DLQ_URL"]) == "WebhookDeadLetters"
    api_env = RES["WarehouseApiFunction"]["Properties"]["Environment"]["Variables"]
    assert ref_name(api_env["CARTLINK_WEBHOOK_QUEUE_URL"]) == "WebhookQueue"


def test_the_webhooks_role_reads_no_index_and_sends_only_to_its_queues():
    actions = role_actions("WebhooksRole")
    for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"):
        assert actions[a] == [{"Fn::GetAtt": ["Table", "Arn"]}], a
    sends = {r["Fn::Sub"] for rs in actions["sqs:SendMessage"] for r in as_list(rs)}
    prefix = "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${AWS::StackName}-"
    assert sends == {
        prefix + "webhooks",
        prefix + "webhook-dead-letters",
        prefix + "webhook-step-failures",
    }
    # the names the role grants are the queues' names
    for name, suffix in (("WebhookQueue", "webhooks"), ("WebhookDeadLetters", "webhook-dead-letters")):
        assert RES[name]["Properties"]["QueueName"] == {"Fn::Sub": "${AWS::StackName}-" + suffix}
    assert "kms:Decrypt" not in actions


def test_failure_queues_are_kms_encrypted_and_wired():
    for q in ("ConfirmationFailures", "MailEventsFailures"):
        assert ref_name(RES[q]["Properties"]["KmsMasterKeyId"]) == "EventsKey"
    dlc = RES["MailEventsFunction"]["Properties"]["DeadLetterConfig"]
    assert ref_name(dlc["TargetArn"]) == "MailEventsFailures"
    retries = RES["MailEventsFunctionEventInvokeConfig"]["Properties"]["MaximumRetryAttempts"]
    assert retries <= 2


def alarms():
    out = []
    for a in of_type("AWS::CloudWatch::Alarm").values():
        p = a["Properties"]
        assert p.get("AlarmActions"), p["AlarmDescription"]
        dims = {d["Name"]: ref_name(d["Value"]) for d in p.get("Dimensions", [])}
        out.append((p["Namespace"], p["MetricName"], dims))
    return out


def test_alarms_cover_errors_iterator_age_queue_depth_and_ses_reputation():
    have = alarms()
    for crate in FUNCTIONS:
        assert ("AWS/Lambda", "Errors", {"FunctionName": logical_id(crate)}) in have, crate
    assert ("AWS/Lambda", "IteratorAge", {"FunctionName": "ConfirmationFunction"}) in have
    for q in ("ConfirmationFailures", "MailEventsFailures"):
        assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": q}) in have
    assert ("AWS/SES", "Reputation.BounceRate", {}) in have
    assert ("AWS/SES", "Reputation.ComplaintRate", {}) in have
    assert RES["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "EventsKey"}


# ------------------------------------------------------------------ SES feedback


def test_bounces_and_complaints_reach_mail_events_through_an_encrypted_topic():
    dest = RES["MailFeedbackDestination"]["Properties"]["EventDestination"]
    assert sorted(dest["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert dest["Enabled"] is True
    assert ref_name(dest["SnsDestination"]["TopicARN"]) == "MailEventsTopic"
    assert ref_name(RES["MailEventsTopic"]["Properties"]["KmsMasterKeyId"]) == "EventsKey"
    subs = [
        s["Properties"]
        for s in of_type("AWS::SNS::Subscription").values()
        if s["Properties"]["Protocol"] == "lambda"
    ]
    assert [(ref_name(s["TopicArn"]), ref_name(s["Endpoint"])) for s in subs] == [
        ("MailEventsTopic", "MailEventsFunction")
    ]
    suppress = RES["MailConfigurationSet"]["Properties"]["SuppressionOptions"]
    assert sorted(suppress["SuppressedReasons"]) == ["BOUNCE", "COMPLAINT"]


# ------------------------------------------------------------------ functions and API


@pytest.mark.parametrize("crate", FUNCTIONS)
def test_one_arm64_function_per_crate_with_bounded_timeouts(crate):
    sam = SAM["Resources"][logical_id(crate)]
    assert sam["Type"] == "AWS::Serverless::Function"
    assert sam["Properties"]["CodeUri"] == f"../functions/{crate}"
    assert sam["Metadata"]["BuildMethod"] == "rust-cargolambda"
    p = RES[logical_id(crate)]["Properties"]
    assert p["Runtime"] == "provided.al2023" and p["Architectures"] == ["arm64"]
    assert p["Handler"] == "bootstrap"
    assert p["TracingConfig"] == {"Mode": "Active"}
    assert 128 <= p["MemorySize"] <= 1024 and 1 <= p["Timeout"] <= 60
    outbound = int(p["Environment"]["Variables"]["CARTLINK_HTTP_TIMEOUT_SECS"])
    assert outbound < p["Timeout"]
    group = RES[ref_name(p["LoggingConfig"]["LogGroup"])]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # API Gateway waits at most 30 s for a route's function
    if logical_id(crate) in set(ROUTES.values()):
        assert p["Timeout"] < 30


def test_the_token_api_fits_a_lease_wait_and_a_token_call_in_the_api_gateway_wait():
    p = RES["ConnectionTokensFunction"]["Properties"]
    env = p["Environment"]["Variables"]
    assert p["MemorySize"] == 256 and p["Timeout"] == 28
    # up to 10 s waiting for another process's refresh lease, then the token call
    lease_wait = 10
    assert env["CARTLINK_HTTP_TIMEOUT_SECS"] == "10"
    assert lease_wait + int(env["CARTLINK_HTTP_TIMEOUT_SECS"]) < p["Timeout"] < 30
    assert env["CARTLINK_CONFIG_PARAMETER"] == {"Fn::Sub": "/cartlink/${EnvironmentName}/config"}


def test_every_log_group_has_retention():
    for name, g in of_type("AWS::Logs::LogGroup").items():
        assert "RetentionInDays" in g["Properties"], name
    assert 30 <= SAM["Parameters"]["LogRetentionDays"]["Default"]


ROUTES = {
    ("post", "/v1/invites"): "WarehouseApiFunction",
    ("get", "/v1/invites/{id}"): "WarehouseApiFunction",
    ("delete", "/v1/invites/{id}"): "WarehouseApiFunction",
    ("get", "/v1/carts"): "WarehouseApiFunction",
    ("get", "/v1/openapi.json"): "WarehouseApiFunction",
    ("post", "/v1/invites/{id}/resend"): "WarehouseApiFunction",
    ("delete", "/v1/connections/{id}"): "WarehouseApiFunction",
    ("get", "/v1/invites"): "WarehouseApiFunction",
    ("get", "/v1/connections"): "WarehouseApiFunction",
    ("get", "/v1/connections/{id}"): "WarehouseApiFunction",
    ("get", "/v1/invites/{id}/events"): "WarehouseApiFunction",
    ("post", "/v1/connections/{id}/reconnect"): "WarehouseApiFunction",
    ("post", "/v1/webhooks/endpoints"): "WarehouseApiFunction",
    ("get", "/v1/webhooks/endpoints"): "WarehouseApiFunction",
    ("delete", "/v1/webhooks/endpoints/{id}"): "WarehouseApiFunction",
    ("post", "/v1/webhooks/endpoints/{id}/rotate-secret"): "WarehouseApiFunction",
    ("get", "/v1/webhooks/deliveries"): "WarehouseApiFunction",
    ("post", "/v1/webhooks/deliveries/{id}/retry"): "WarehouseApiFunction",
    ("post", "/v1/webhooks/test"): "WarehouseApiFunction",
    ("get", "/v1/cart-apps"): "WarehouseApiFunction",
    ("put", "/v1/cart-apps/{cart}"): "WarehouseApiFunction",
    ("get", "/v1/cart-apps/{cart}"): "WarehouseApiFunction",
    ("delete", "/v1/cart-apps/{cart}"): "WarehouseApiFunction",
    ("get", "/v1/connections/{id}/tokens"): "ConnectionTokensFunction",
    ("get", "/setup"): "GrantPageFunction",
    ("head", "/setup"): "GrantPageFunction",
    ("post", "/setup"): "GrantPageFunction",
    ("get", "/setup/{token}"): "GrantPageFunction",
    ("head", "/setup/{token}"): "GrantPageFunction",
    ("post", "/setup/{token}/grant"): "GrantPageFunction",
    ("get", "/setup/{token}/status"): "GrantPageFunction",
    ("post", "/setup/{token}/opened"): "GrantPageFunction",
    ("post", "/setup/{token}/popup-blocked"): "GrantPageFunction",
    ("post", "/setup/{token}/credentials"): "GrantPageFunction",
    ("get", "/assets/{name}"): "GrantPageFunction",
    ("get", "/manage/{token}"): "GrantPageFunction",
    ("head", "/manage/{token}"): "GrantPageFunction",
    ("get", "/manage/{token}/withdraw"): "GrantPageFunction",
    ("post", "/manage/{token}/withdraw"): "GrantPageFunction",
    ("post", "/manage"): "GrantPageFunction",
    ("get", "/oauth/callback/{cart}"): "OauthCallbackFunction",
    ("post", "/oauth/keys/{cart}"): "OauthCallbackFunction",
    ("get", "/oauth/return/{cart}"): "OauthCallbackFunction",
    ("post", "/oauth/integration/{cart}/{nonce}"): "OauthCallbackFunction",
    ("get", "/oauth/identity/{cart}/{nonce}"): "OauthCallbackFunction",
    ("post", "/cart-events/shopify"): "CartEventsFunction",
    ("get", "/cart-events/bigcommerce/uninstall"): "CartEventsFunction",
    ("get", "/cart-events/bigcommerce/load"): "CartEventsFunction",
    ("get", "/cart-events/bigcommerce/remove_user"): "CartEventsFunction",
    ("get", "/cart-events/ebay"): "CartEventsFunction",
    ("post", "/cart-events/ebay"): "CartEventsFunction",
    ("post", "/cart-events/square"): "CartEventsFunction",
    ("post", "/cart-events/wix"): "CartEventsFunction",
    ("post", "/cart-events/ecwid"): "CartEventsFunction",
    ("post", "/cart-events/tiktok-shop"): "CartEventsFunction",
    ("post", "/cart-events/squarespace"): "CartEventsFunction",
    ("x-amazon-apigateway-any-method", "/admin/{proxy+}"): "AdminApiFunction",
    ("get", "/brand/{warehouse}/logo.png"): "AdminApiFunction",
}


def test_the_http_api_routes_every_function_route_with_payload_2():
    paths = RES["HttpApi"]["Properties"]["Body"]["paths"]
    seen = {}
    for path, methods in paths.items():
        for method, op in methods.items():
            integ = op["x-amazon-apigateway-integration"]
            assert integ["payloadFormatVersion"] == "2.0"
            fn = re.search(r"\$\{(\w+)\.Arn\}", integ["uri"]["Fn::Sub"]).group(1)
            seen[(method, path)] = fn
    assert seen == ROUTES


def test_access_logs_leave_out_paths_and_query_strings():
    fmt = RES["HttpApiApiGatewayDefaultStage"]["Properties"]["AccessLogSettings"]["Format"]
    fields = json.loads(fmt)
    assert fields["routeKey"] == "$context.routeKey"
    for leaky in ("$context.path", "$request", "querystring", "$context.requestOverride"):
        assert leaky.lower() not in fmt.lower(), leaky
    assert ref_name(
        RES["HttpApiApiGatewayDefaultStage"]["Properties"]["AccessLogSettings"]["DestinationArn"]
    ) == "ApiAccessLogGroup"


def test_the_http_api_routes_exactly_the_operations_of_the_openapi_document():
    # GIVEN the warehouse API's OpenAPI document and the template's HTTP API routes under /v1
    document = yaml_parse((ROOT / "docs/openapi.yaml").read_text())
    documented = {
        (method, path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    }
    paths = RES["HttpApi"]["Properties"]["Body"]["paths"]
    routed = {
        (method, path)
        for path, methods in paths.items()
        if path.startswith("/v1/")
        for method in methods
    }
    # THEN each documented operation is routed, and nothing else under /v1 is
    assert routed == documented, {
        "routed, not documented": sorted(routed - documented),
        "documented, not routed": sorted(documented - routed),
    }


def iam_authorized_routes(resources=RES):
    """(method, path) of every HTTP API route that only a SigV4-signed request passes."""
    body = resources["HttpApi"]["Properties"]["Body"]
    schemes = body.get("components", {}).get("securitySchemes", {})
    iam = {
        name
        for name, scheme in schemes.items()
        if scheme.get("x-amazon-apigateway-authtype") == "awsSigv4"
    }
    return {
        (method, path)
        for path, methods in body["paths"].items()
        for method, op in methods.items()
        if any(name in iam for req in op.get("security", []) for name in req)
    }


def test_the_admin_api_is_iam_authorized_and_nothing_else_is():
    # GIVEN the HTTP API's routes  THEN exactly the admin route needs a SigV4 signature
    assert iam_authorized_routes() == {("x-amazon-apigateway-any-method", "/admin/{proxy+}")}


def test_the_iam_check_sees_an_admin_route_left_open():
    # GIVEN a template whose admin route lost its authorizer
    mutated = copy.deepcopy(RES)
    op = mutated["HttpApi"]["Properties"]["Body"]["paths"]["/admin/{proxy+}"]
    op["x-amazon-apigateway-any-method"].pop("security")
    # THEN no route is IAM-authorized any more
    assert iam_authorized_routes(mutated) == set()


def test_the_admin_api_may_not_delete_send_mail_or_read_streams():
    actions = role_actions("AdminApiRole")
    assert sorted(a for a in actions if a.startswith("dynamodb:")) == [
        "dynamodb:ConditionCheckItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
    ]
    assert not any(a.startswith(("ses:", "sqs:", "kms:")) for a in actions)
