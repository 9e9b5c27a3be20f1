"""Transforms infra/template.yaml to plain CloudFormation offline with aws-sam-translator.

cfn-lint 1.54 and later no longer expand SAM by themselves, so `make infra-check` lints the
output of this script. Every function's CodeUri (a local crate folder, which only `sam build`
turns into an artifact) is replaced by a placeholder S3 URI first; nothing else is changed.
Usage: python infra/tests/transform.py infra/template.yaml infra/build/template.json
"""

import json
import os
import sys
from pathlib import Path

from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """Every role is written in the template; no AWS managed policy is looked up (offline)."""

    def load(self):
        return {}


def placeholder_code(template):
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Function":
            code = resource["Properties"]["CodeUri"]
            crate = Path(code).name
            resource["Properties"]["CodeUri"] = f"s3://placeholder-bucket/{crate}.zip"
    return template


def main(source, target):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = placeholder_code(yaml_parse(Path(source).read_text()))
    try:
        out = transform(template, {}, NoManagedPolicies(), passthrough_metadata=True)
    except InvalidDocumentException as e:
        for cause in e.causes:
            print(f"{source}: {cause.message}", file=sys.stderr)
        sys.exit(1)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    Path(target).write_text(json.dumps(out, indent=1, sort_keys=True))
    print(f"{source} -> {target}: {len(out['Resources'])} resources")


if __name__ == "__main__":
    main(*sys.argv[1:3])
