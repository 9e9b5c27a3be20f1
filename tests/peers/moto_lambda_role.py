"""Sets up a signature-checking moto (started with INITIAL_NO_AUTH_ACTION_COUNT=4) as the SAM
template sets up a function: a role Lambda may assume whose only permission is
ssm:GetParameter, a SecureString parameter, and the role's temporary credentials (with a
session token, as Lambda puts them in a function's environment). Four unchecked actions:
CreateRole, PutRolePolicy, PutParameter, AssumeRole. Every request after them is checked:
its SigV4 signature, its session token, and the role's policy for its action.

Usage: moto_lambda_role.py ENDPOINT PARAMETER_NAME < value; prints the credentials as JSON.
"""
import json
import sys

import boto3

endpoint, name = sys.argv[1], sys.argv[2]
setup = dict(endpoint_url=endpoint, region_name="us-east-1",
             aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **setup)
iam.create_role(RoleName="function", AssumeRolePolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}]}))
# moto evaluates a policy's actions, not its resources: the action is what this checks.
iam.put_role_policy(RoleName="function", PolicyName="config", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}]}))
boto3.client("ssm", **setup).put_parameter(Name=name, Value=sys.stdin.read(), Type="SecureString")
credentials = boto3.client("sts", **setup).assume_role(
    RoleArn="arn:aws:iam::123456789012:role/function", RoleSessionName="function-init")["Credentials"]
print(json.dumps({k: credentials[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}))
