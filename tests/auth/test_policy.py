"""IAM policy evaluation, table-driven from the examples of the IAM User Guide.

Each case names the page it comes from (https://docs.aws.amazon.com/IAM/latest/UserGuide/<page>.html).
Outcomes: "allow", "deny" (implicit) or "explicit" (an explicit Deny decided).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.auth.conditions import context_of
from gateway.auth.patterns import ArnPattern, Template, Unresolved
from gateway.auth.policy import AccessRequest, Policy, PolicyError, evaluate, parse_policy
from gateway.auth.principals import ANONYMOUS, Principal, principal_from_arn

A = "111122223333"
B = "444455556666"
CARLOS = f"arn:aws:iam::{A}:user/carlossalazar"
PAT = f"arn:aws:iam::{B}:user/pat"
SESSION = f"arn:aws:sts::{A}:assumed-role/reader/alice-session"
READER = f"arn:aws:iam::{A}:role/reader"
OWN = "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar"


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> str:
    return json.dumps({"Version": version, "Statement": list(statements)})


# reference_policies_evaluation-logic_policy-eval-basics: the policy attached to carlossalazar.
CARLOS_POLICY = doc(
    {"Sid": "AllowS3ListRead", "Effect": "Allow",
     "Action": ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints",
                "s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::*"},
    {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*",
     "Resource": [f"{OWN}/*", OWN]},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
)
# ... and a bucket policy that lets him write to the logs bucket: the explicit deny still wins.
LOGS_BUCKET_POLICY = doc({"Effect": "Allow", "Principal": {"AWS": CARLOS}, "Action": "s3:PutObject",
                          "Resource": "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/*"})
# A bucket of account A that names a principal, or only an account (delegation).
SHARED = "arn:aws:s3:::shared-bucket/report.csv"


def bucket_policy(principal: Any) -> str:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::shared-bucket/*"})


GET_SHARED = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-bucket/*"})


@dataclass
class Case:
    name: str
    identity: list[str]
    resource: str | None
    principal: str | None  # None: anonymous
    action: str
    target: str
    expected: str
    context: dict[str, Any] = field(default_factory=dict)
    owner: str = A


CASES = [
    # --- reference_policies_evaluation-logic_policy-eval-basics (single account)
    Case("carlos lists any bucket", [CARLOS_POLICY], None, CARLOS, "s3:ListAllMyBuckets", "arn:aws:s3:::other",
         "allow"),
    Case("carlos writes his own bucket", [CARLOS_POLICY], None, CARLOS, "s3:PutObject",
         "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/file.txt", "allow"),
    Case("deny on *log* beats the bucket policy's allow", [CARLOS_POLICY], LOGS_BUCKET_POLICY, CARLOS, "s3:PutObject",
         "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/file.txt", "explicit"),
    Case("nothing allows deleting another bucket", [CARLOS_POLICY], None, CARLOS, "s3:DeleteBucket",
         "arn:aws:s3:::other", "deny"),
    Case("same account: the resource-based policy alone is enough", [], bucket_policy({"AWS": CARLOS}), CARLOS,
         "s3:GetObject", SHARED, "allow"),
    Case("same account: the identity-based policy alone is enough", [GET_SHARED], None, CARLOS, "s3:GetObject",
         SHARED, "allow"),
    Case("same account: naming only the account delegates, it grants nothing", [], bucket_policy({"AWS": A}), CARLOS,
         "s3:GetObject", SHARED, "deny"),
    Case("the root user has full access in its account", [], None, f"arn:aws:iam::{A}:root", "s3:DeleteBucket",
         "arn:aws:s3:::x", "allow"),
    # --- reference_policies_evaluation-logic-cross-account
    Case("cross account: both allow", [GET_SHARED], bucket_policy({"AWS": PAT}), PAT, "s3:GetObject", SHARED, "allow"),
    Case("cross account: the bucket trusts the account, the user's policy allows", [GET_SHARED],
         bucket_policy({"AWS": f"arn:aws:iam::{B}:root"}), PAT, "s3:GetObject", SHARED, "allow"),
    Case("cross account: identity-based only", [GET_SHARED], None, PAT, "s3:GetObject", SHARED, "deny"),
    Case("cross account: resource-based only", [], bucket_policy({"AWS": PAT}), PAT, "s3:GetObject", SHARED, "deny"),
    Case("cross account: the bucket names another account", [GET_SHARED], bucket_policy({"AWS": A}), PAT,
         "s3:GetObject", SHARED, "deny"),
    # --- reference_policies_elements_principal
    Case("a public policy allows the anonymous caller", [], bucket_policy("*"), None, "s3:GetObject", SHARED, "allow"),
    Case('{"AWS": "*"} is "*"', [], bucket_policy({"AWS": "*"}), None, "s3:GetObject", SHARED, "allow"),
    Case("an anonymous caller is no account's principal", [], bucket_policy({"AWS": A}), None, "s3:GetObject",
         SHARED, "deny"),
    Case("a role ARN matches its sessions", [], bucket_policy({"AWS": READER}), SESSION,
         "s3:GetObject", SHARED, "allow"),
    Case("a role ARN with a path matches its sessions", [],
         bucket_policy({"AWS": f"arn:aws:iam::{A}:role/team/reader"}),
         SESSION, "s3:GetObject", SHARED, "allow"),
    Case("a service principal never matches a user", [], bucket_policy({"Service": "apigateway.amazonaws.com"}),
         CARLOS, "s3:GetObject", SHARED, "deny"),
    # --- reference_policies_elements_notprincipal: Deny with NotPrincipal needs session, role and account
    Case("NotPrincipal lists the whole chain: not denied", [GET_SHARED], doc(
        {"Effect": "Deny", "NotPrincipal": {"AWS": [SESSION, READER, f"arn:aws:iam::{A}:root"]},
         "Action": "s3:*", "Resource": "*"}), SESSION, "s3:GetObject", SHARED, "allow"),
    Case("NotPrincipal lists only the role: denied", [GET_SHARED], doc(
        {"Effect": "Deny", "NotPrincipal": {"AWS": READER}, "Action": "s3:*",
         "Resource": "*"}), SESSION, "s3:GetObject", SHARED, "explicit"),
    # --- reference_policies_elements_action / _notaction / _notresource
    Case("actions are case-insensitive", [doc({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"})],
         None, CARLOS, "Lambda:invokefunction", "arn:aws:lambda:us-east-1:1:function:f", "allow"),
    Case("? is one character", [doc({"Effect": "Allow", "Action": "s3:Get?bject", "Resource": "*"})], None, CARLOS,
         "s3:GetObject", SHARED, "allow"),
    Case("* spans the resource part", [doc({"Effect": "Allow", "Action": "lambda:*",
                                             "Resource": f"arn:aws:lambda:*:{A}:function:app*"})],
         None, CARLOS, "lambda:InvokeFunction", f"arn:aws:lambda:eu-west-1:{A}:function:app:live", "allow"),
    Case("a segment wildcard never spans colons", [doc({"Effect": "Allow", "Action": "lambda:*",
                                                         "Resource": "arn:aws:lambda:*:function:app"})],
         None, CARLOS, "lambda:InvokeFunction", f"arn:aws:lambda:eu-west-1:{A}:function:app", "deny"),
    Case("ARNs are case-sensitive",
         [doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::Shared-Bucket/*"})],
         None, CARLOS, "s3:GetObject", SHARED, "deny"),
    Case("Allow with NotAction grants everything else",
         [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
         None, CARLOS, "s3:ListBucket", "arn:aws:s3:::b", "allow"),
    Case("... but not what it names", [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})],
         None, CARLOS, "iam:CreateUser", f"arn:aws:iam::{A}:user/x", "deny"),
    Case("Deny NotAction without MFA (BoolIfExists, key absent)", [doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})], None, CARLOS, "s3:ListBucket",
         "arn:aws:s3:::b", "explicit"),
    Case("Deny NotAction: MFA present", [doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})], None, CARLOS, "s3:ListBucket",
         "arn:aws:s3:::b", "allow", {"aws:MultiFactorAuthPresent": True}),
    Case("Deny NotResource denies every other resource", [doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*",
         "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]})], None, CARLOS,
         "s3:GetObject", "arn:aws:s3:::HRBucket/Other/x", "explicit"),
    Case("... and leaves the named ones", [doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*",
         "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]})], None, CARLOS,
         "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/x", "allow"),
]

ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def cond(block: dict[str, Any], effect: str = "Allow") -> list[str]:
    """An identity policy whose only Allow (or a Deny after a blanket Allow) has this Condition."""
    if effect == "Deny":
        return [doc(ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": block})]
    return [doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": block})]


SOURCE_IP_DENY = {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}
DATES = {"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
         "DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}
TAG_KEYS_ALL = {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}
TAG_KEYS_ANY = {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}
INSTANCE_TYPE = {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}


def ccase(name: str, block: dict[str, Any], context: dict[str, Any], expected: str, effect: str = "Allow") -> Case:
    return Case(name, cond(block, effect), None, CARLOS, "s3:GetObject", SHARED, expected, context)


CONDITION_CASES = [
    # reference_policies_examples_aws_deny-ip
    ccase("source IP inside the ranges", SOURCE_IP_DENY, {"aws:SourceIp": "203.0.113.7"}, "allow", "Deny"),
    ccase("source IP outside the ranges", SOURCE_IP_DENY, {"aws:SourceIp": "198.51.100.1"}, "explicit", "Deny"),
    ccase("IPv6 against IPv4 ranges", SOURCE_IP_DENY, {"aws:SourceIp": "2001:db8::1"}, "explicit", "Deny"),
    ccase("IpAddress with an IPv6 block", {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},
          {"aws:SourceIp": "2001:db8::1"}, "allow"),
    # reference_policies_examples_aws-dates
    ccase("within the dates", DATES, {"aws:CurrentTime": "2020-05-01T12:00:00Z"}, "allow"),
    ccase("after the dates", DATES, {"aws:CurrentTime": "2020-07-01T00:00:00Z"}, "deny"),
    ccase("a date against epoch seconds", {"DateLessThan": {"aws:EpochTime": "2020-06-30T23:59:59Z"}},
          {"aws:EpochTime": "1588334400"}, "allow"),
    # reference_policies_elements_condition_operators (Numeric, Bool, Null, String, Arn, IfExists)
    ccase("NumericLessThan MFA age", {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
          {"aws:MultiFactorAuthAge": "120"}, "allow"),
    ccase("NumericLessThan, key absent", {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {}, "deny"),
    ccase("Bool SecureTransport false denies plain HTTP", {"Bool": {"aws:SecureTransport": "false"}},
          {"aws:SecureTransport": False}, "explicit", "Deny"),
    ccase("Bool with a JSON boolean", {"Bool": {"aws:SecureTransport": True}}, {"aws:SecureTransport": True}, "allow"),
    ccase("Null true: temporary credentials absent", {"Null": {"aws:TokenIssueTime": "true"}}, {}, "explicit", "Deny"),
    ccase("Null true: key present", {"Null": {"aws:TokenIssueTime": "true"}},
          {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}, "allow", "Deny"),
    ccase("StringEquals is case-sensitive", {"StringEquals": {"aws:PrincipalTag/team": "Blue"}},
          {"aws:PrincipalTag/team": "blue"}, "deny"),
    ccase("condition key names are case-insensitive", {"StringEquals": {"AWS:PRINCIPALTAG/TEAM": "blue"}},
          {"aws:PrincipalTag/team": "blue"}, "allow"),
    ccase("StringEqualsIgnoreCase", {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "BLUE"}},
          {"aws:PrincipalTag/team": "blue"}, "allow"),
    ccase("values of one key are ORed", {"StringEquals": {"aws:PrincipalTag/team": ["red", "blue"]}},
          {"aws:PrincipalTag/team": "blue"}, "allow"),
    ccase("keys of one operator are ANDed", {"StringEquals": {"aws:PrincipalTag/team": "blue", "aws:username": "x"}},
          {"aws:PrincipalTag/team": "blue", "aws:username": "carlossalazar"}, "deny"),
    ccase("StringNotEquals with the key absent is true", {"StringNotEquals": {"aws:PrincipalTag/team": "red"}}, {},
          "allow"),
    ccase("StringLike", {"StringLike": {"s3:prefix": ["home/*"]}}, {"s3:prefix": "home/carlos/"}, "allow"),
    ccase("StringNotLike", {"StringNotLike": {"s3:prefix": ["home/*"]}}, {"s3:prefix": "home/carlos/"}, "deny"),
    ccase("ArnLike per segment", {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{A}:*"}},
          {"aws:SourceArn": f"arn:aws:sns:us-east-1:{A}:topic"}, "allow"),
    ccase("ArnEquals takes wildcards too", {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:*:{B}:*"}},
          {"aws:SourceArn": f"arn:aws:sns:us-east-1:{A}:topic"}, "deny"),
    ccase("ArnNotLike with the key absent is true", {"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}, {},
          "allow"),
    ccase("IfExists: key absent", INSTANCE_TYPE, {}, "allow"),
    ccase("IfExists: key present, matching", INSTANCE_TYPE, {"ec2:InstanceType": "t2.micro"}, "allow"),
    ccase("IfExists: key present, not matching", INSTANCE_TYPE, {"ec2:InstanceType": "m4.large"}, "deny"),
    ccase("BinaryEquals", {"BinaryEquals": {"k:blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}},
          {"k:blob": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}, "allow"),
    # reference_policies_condition-single-vs-multi-valued-context-keys
    ccase("ForAllValues: every tag key allowed", TAG_KEYS_ALL, {"aws:TagKeys": ["environment"]}, "allow"),
    ccase("ForAllValues: one tag key not allowed", TAG_KEYS_ALL, {"aws:TagKeys": ["environment", "dept"]}, "deny"),
    ccase("ForAllValues: no tag keys at all", TAG_KEYS_ALL, {}, "allow"),
    ccase("ForAnyValue: one matches", TAG_KEYS_ANY, {"aws:TagKeys": ["dept", "cost-center"]}, "allow"),
    ccase("ForAnyValue: none match", TAG_KEYS_ANY, {"aws:TagKeys": ["dept"]}, "deny"),
    ccase("ForAnyValue: key absent", TAG_KEYS_ANY, {}, "deny"),
    ccase("ForAllValues:StringNotEquals negates per value",
          {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}}, {"aws:TagKeys": ["a", "b"]}, "allow"),
    # reference_policies_variables
    Case("${aws:username} in a Resource", [doc({"Effect": "Allow", "Action": "s3:*",
                                                 "Resource": "arn:aws:s3:::home/${aws:username}/*"})], None, CARLOS,
         "s3:GetObject", "arn:aws:s3:::home/carlossalazar/notes.txt", "allow"),
    Case("${aws:username} does not open other homes", [doc({"Effect": "Allow", "Action": "s3:*",
                                                             "Resource": "arn:aws:s3:::home/${aws:username}/*"})], None,
         CARLOS, "s3:GetObject", "arn:aws:s3:::home/bob/notes.txt", "deny"),
    Case("a role session has no aws:username: the statement does not apply",
         [doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"})], None,
         SESSION, "s3:GetObject", "arn:aws:s3:::home/alice-session/x", "deny"),
    Case("... unless the variable has a default",
         [doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username, 'guest'}/*"})],
         None, SESSION, "s3:GetObject", "arn:aws:s3:::home/guest/x", "allow"),
    Case("${*} is a literal star", [doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${*}"})],
         None, CARLOS, "s3:GetObject", "arn:aws:s3:::b/anything", "deny"),
    Case("Version 2008-10-17 has no variables", [doc({"Effect": "Allow", "Action": "s3:*",
                                                       "Resource": "arn:aws:s3:::home/${aws:username}/*"},
                                                      version="2008-10-17")], None, CARLOS, "s3:GetObject",
         "arn:aws:s3:::home/carlossalazar/x", "deny"),
    Case("a variable in a condition value", cond({"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}), None,
         CARLOS, "s3:ListBucket", "arn:aws:s3:::b", "allow", {"s3:prefix": "home/carlossalazar/docs"}),
    Case("aws:userid of a role session", cond({"StringLike": {"aws:userid": "AROA*:alice-session"}}), None,
         SESSION, "s3:ListBucket", "arn:aws:s3:::b", "allow"),
    Case("aws:PrincipalArn of a session is the role", cond({"ArnEquals": {"aws:PrincipalArn": READER}}),
         None, SESSION, "s3:ListBucket", "arn:aws:s3:::b", "allow"),
]

# lambda/latest/dg/urls-auth.html: what the console creates for an AuthType NONE function URL.
FN = f"arn:aws:lambda:us-east-1:{A}:function:app"
URL_POLICY = doc(
    {"Sid": "FunctionURLAllowPublicAccess", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunctionUrl",
     "Resource": FN, "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}},
    {"Sid": "FunctionURLAllowInvokeAction", "Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction",
     "Resource": FN, "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}}},
)
URL_CASES = [
    Case("public URL: InvokeFunctionUrl", [], URL_POLICY, None, "lambda:InvokeFunctionUrl", FN, "allow",
         {"lambda:FunctionUrlAuthType": "NONE"}),
    Case("public URL: InvokeFunction via the URL", [], URL_POLICY, None, "lambda:InvokeFunction", FN, "allow",
         {"lambda:InvokedViaFunctionUrl": True}),
    Case("public URL: not a direct Invoke", [], URL_POLICY, None, "lambda:InvokeFunction", FN, "deny"),
    Case("public URL statement does not open an AWS_IAM URL", [], URL_POLICY, PAT, "lambda:InvokeFunctionUrl", FN,
         "deny", {"lambda:FunctionUrlAuthType": "AWS_IAM"}),
]


def principal(arn: str | None) -> Principal:
    return ANONYMOUS if arn is None else principal_from_arn(arn)


@pytest.mark.parametrize("case", CASES + CONDITION_CASES + URL_CASES, ids=lambda c: c.name)
def test_evaluation(case: Case) -> None:
    who = principal(case.principal)
    identity = [parse_policy(text, name=f"identity[{i}]") for i, text in enumerate(case.identity)]
    resource = parse_policy(case.resource, name="resource", kind="resource") if case.resource else None
    context = context_of({**who.context(), **case.context})
    decision = evaluate(AccessRequest(who, case.action, case.target, context), identity, resource, case.owner)
    outcome = "allow" if decision.allowed else "explicit" if decision.explicit_deny else "deny"
    assert outcome == case.expected, str(decision)


def test_the_decision_names_the_deciding_statement() -> None:
    who = principal(CARLOS)
    policy = parse_policy(CARLOS_POLICY, name="identities[0].policies[0]")
    request = AccessRequest(who, "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/x",
                            context_of(who.context()))
    decision = evaluate(request, [policy], None, A)
    assert str(decision) == "explicit deny: statement 'DenyS3Logs' #2 (Deny) of identities[0].policies[0]"
    allowed = evaluate(AccessRequest(who, "s3:ListAllMyBuckets", "arn:aws:s3:::x", {}), [policy], None, A)
    assert str(allowed) == "allowed: statement 'AllowS3ListRead' #0 (Allow) of identities[0].policies[0]"


@pytest.mark.parametrize(("document", "kind", "message"), [
    ("{not json", "identity", "not valid JSON"),
    ("[]", "identity", "a policy is a JSON object"),
    ('{"Version": "2012-10-17"}', "identity", "Statement must be"),
    ('{"Version": "2021-01-01", "Statement": []}', "identity", "Version must be one of"),
    ('{"Statement": {"Effect": "Permit", "Action": "*", "Resource": "*"}}', "identity", "Statement[0].Effect"),
    ('{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Resource": "*"}}', "identity",
     "Statement[0]: needs exactly one of Action and NotAction"),
    ('{"Statement": {"Effect": "Allow", "Action": "*"}}', "identity", "exactly one of Resource and NotResource"),
    ('{"Statement": {"Effect": "Allow", "Action": "invoke", "Resource": "*"}}', "identity", "Statement[0].Action"),
    ('{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}', "identity",
     "must not specify a principal"),
    ('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}', "resource", "exactly one of Principal"),
    ('{"Statement": {"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "*", "Resource": "*"}}', "resource",
     "Statement[0].Principal: invalid principal 'bob'"),
    ('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringSimilar": {"k": "v"}}}}',
     "identity", "StringSimilar.k: unknown condition operator"),
    ('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"k": "nope"}}}}',
     "identity", "'nope' is not an IP address"),
    ('{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"DateLessThan": {"k": "x"}}}}',
     "identity", "'x' is not an ISO 8601 date"),
    ('{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Extra": 1}]}', "identity",
     "unknown element(s) Extra"),
])
def test_invalid_policies_are_refused(document: str, kind: Any, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(document, name="p", kind=kind)
    assert message in str(caught.value)


def test_a_parsed_policy_keeps_its_name_and_kind() -> None:
    policy = parse_policy(URL_POLICY, name="functions.app.policy", kind="resource")
    assert isinstance(policy, Policy)
    assert (policy.name, policy.kind, [s.sid for s in policy.statements]) == (
        "functions.app.policy", "resource", ["FunctionURLAllowPublicAccess", "FunctionURLAllowInvokeAction"])


def test_templates_and_arn_patterns() -> None:
    ctx = context_of({"aws:username": "it's", "multi": ["a", "b"]})
    assert Template("x-${aws:username}", variables=True).text(ctx) == "x-it's"
    assert Template("${missing, 'it''s'}", variables=True).text({}) == "it's"
    assert Template("${$}{x}", variables=True).text({}) == "${x}"
    with pytest.raises(Unresolved):
        Template("${multi}", variables=True).text(ctx)
    assert Template("a*", variables=True).regex({}).fullmatch("abc")
    assert not Template("a${*}", variables=True).regex({}).fullmatch("abc")
    assert ArnPattern("*", variables=True).matches("anything", {})
    assert not ArnPattern("arn:aws:s3:::b", variables=False).matches("not-an-arn", {})


@pytest.mark.parametrize("client_ip", ["127.0.0.1", "203.0.113.9", "2001:db8::1"])
@pytest.mark.parametrize("epoch", [0, 1_795_000_000])
def test_the_default_function_url_policy_allows_every_anonymous_request(client_ip: str, epoch: int) -> None:
    """Why FunctionUrlAuth skips evaluation for NONE with the default policy (``open``): both of its
    statements allow anyone whatever the request, under the context keys a NONE URL's requests carry."""
    from datetime import UTC, datetime

    from gateway.auth.iam import default_url_policy, principal_context, request_context
    from tests.events.helpers import make_request

    arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    policy = default_url_policy(arn)
    request = make_request("POST", "/any/path", "a=1", client_ip=client_ip)
    now = datetime.fromtimestamp(epoch, UTC)
    for action, key, value, sid in (
            ("lambda:InvokeFunctionUrl", "lambda:functionurlauthtype", "NONE", "FunctionURLAllowPublicAccess"),
            ("lambda:InvokeFunction", "lambda:invokedviafunctionurl", "true", "FunctionURLAllowInvokeAction")):
        context = request_context(request, principal_context(ANONYMOUS), now, "us-east-1", {key: (value,)})
        decision = evaluate(AccessRequest(ANONYMOUS, action, arn, context), (), policy, "123456789012")
        assert (decision.allowed, decision.reason, [s.sid for s in decision.statements]) == (
            True, "allowed by the resource-based policy", [sid])


def test_only_a_none_url_without_a_policy_of_its_own_skips_evaluation() -> None:
    from types import SimpleNamespace

    from gateway.auth.iam import FunctionUrlAuth
    from gateway.auth.identities import IamDirectory

    settings = SimpleNamespace(region="us-east-1", account_id="123456789012")
    own = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "lambda:*", "Resource": "*"}]}, name="fn's policy",
        kind="resource")
    none = FunctionUrlAuth(SimpleNamespace(function="fn", auth_type="NONE"), settings, IamDirectory(()))
    none_own = FunctionUrlAuth(SimpleNamespace(function="fn", auth_type="NONE"), settings,
                               IamDirectory((), {"fn": own}))
    iam = FunctionUrlAuth(SimpleNamespace(function="fn", auth_type="AWS_IAM"), settings, IamDirectory(()))
    assert (none.open, none_own.open, iam.open) == (True, False, False)


def test_a_none_url_keeps_its_own_policy_when_no_identities_are_configured() -> None:
    """A directory holding only resource policies (no [[identities]]) is used as it is: a NONE URL's own
    policy is evaluated (an explicit deny refuses), not replaced by the default one (it once was: a
    directory without identities was falsy, and ``directory or IamDirectory(())`` dropped it)."""
    import asyncio
    from types import SimpleNamespace

    from gateway.auth.iam import function_url_auth
    from gateway.auth.identities import IamDirectory
    from gateway.errors import AuthError
    from gateway.ids import new_context
    from gateway.models import RouteMatch
    from tests.events.helpers import make_request

    deny = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "lambda:*", "Resource": "*"}]}, name="fn's policy",
        kind="resource")
    settings = SimpleNamespace(region="us-east-1", account_id="123456789012")
    url = SimpleNamespace(function="fn", auth_type="NONE")
    match = RouteMatch(function="fn", route_key="", route=url)
    refused = function_url_auth(url, settings, IamDirectory((), {"fn": deny}))
    with pytest.raises(AuthError) as refusal:
        asyncio.run(refused.authorize(make_request("GET", "/"), match, new_context()))
    assert (refusal.value.status, refusal.value.error_type) == (403, "AccessDeniedException")
    assert str(refusal.value).endswith("explicit deny: statement #0 (Deny) of fn's policy")
    allowed = function_url_auth(url, settings, IamDirectory(()))  # no policy of its own: the default one
    assert asyncio.run(allowed.authorize(make_request("GET", "/"), match, new_context())) is match
