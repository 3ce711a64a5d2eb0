#!/usr/bin/env python3
"""A DynamoDB proxy that enforces template.yaml's IAM policies, for the Lambda smoke test.

    iam_proxy.py TEMPLATE UPSTREAM_URL DENIALS_FILE [REQUESTS_FILE]
                                           # prints its port, then serves

Each function under test talks to DynamoDB Local through this proxy with its
*logical resource name* as AWS access key id (`Permits`, `RespectWeek`, ...). The
proxy reads that function's inline policy statements from the template and lets a
request through only when every DynamoDB action in it is allowed:

- GetItem / PutItem / UpdateItem / DeleteItem on the table, with the partition key
  of the item as `dynamodb:LeadingKeys`;
- TransactWriteItems: each Put / Update / Delete / ConditionCheck part as
  PutItem / UpdateItem / DeleteItem / ConditionCheckItem on its item (IAM has no
  TransactWriteItems action);
- Query on the table or on `<table>/index/<name>`, with the queried partition
  value as `dynamodb:LeadingKeys`;
- anything else (Scan, DescribeTable, ...) as that action on the table.

A statement matches when an action pattern matches (IAM wildcards, case-
insensitive), its Resource names that table/index (`!GetAtt Table.Arn`,
`!Sub "${Table.Arn}/index/NAME"`) and its only supported condition,
`ForAllValues:StringLike` on `dynamodb:LeadingKeys`, holds. A denied request gets
DynamoDB's AccessDeniedException and is appended to DENIALS_FILE, so the smoke
test fails even if the function handled the error. Every request is also logged
as `FUNCTION OPERATION` to REQUESTS_FILE when given (the smoke test checks that no
function sends one while it starts). This is a model of IAM for the shapes this
template uses, not IAM itself.
"""

import http.client
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cfnlint.decode import decode  # reads CloudFormation YAML with its short-form tags


def wildcard(pattern, value, ignore_case=False):
    """IAM StringLike: * any run, ? one character (no character classes)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def as_list(v):
    return v if isinstance(v, list) else [v]


def load_policies(path):
    template, matches = decode(path)
    if template is None:
        sys.exit(f"iam_proxy: cannot read {path}: {matches}")
    resources = template["Resources"]
    tables = [n for n, r in resources.items() if r.get("Type") == "AWS::DynamoDB::Table"]
    if len(tables) != 1:
        sys.exit("iam_proxy: expected exactly one AWS::DynamoDB::Table")
    table = tables[0]

    def target(resource):
        if resource == {"Fn::GetAtt": [table, "Arn"]}:
            return "table"
        sub = resource.get("Fn::Sub") if isinstance(resource, dict) else None
        prefix = "${%s.Arn}/index/" % table
        if isinstance(sub, str) and sub.startswith(prefix):
            return "index/" + sub[len(prefix):]
        sys.exit(f"iam_proxy: unsupported Resource {resource!r}")

    policies = {}
    for name, r in resources.items():
        if r.get("Type") != "AWS::Serverless::Function":
            continue
        statements = []
        for policy in r.get("Properties", {}).get("Policies", []):
            for s in policy["Statement"]:
                if s.get("Effect") != "Allow":
                    sys.exit(f"iam_proxy: {name}: only Allow statements are modelled")
                condition = s.get("Condition")
                keys = None
                if condition is not None:
                    if list(condition) != ["ForAllValues:StringLike"] or list(
                        condition["ForAllValues:StringLike"]
                    ) != ["dynamodb:LeadingKeys"]:
                        sys.exit(f"iam_proxy: {name}: unsupported condition {condition!r}")
                    keys = as_list(condition["ForAllValues:StringLike"]["dynamodb:LeadingKeys"])
                statements.append(
                    {
                        "actions": as_list(s["Action"]),
                        "targets": [target(x) for x in as_list(s["Resource"])],
                        "keys": keys,
                    }
                )
        policies[name] = statements
    return policies


def allowed(statements, action, where, key):
    for s in statements:
        if not any(wildcard(a, action, ignore_case=True) for a in s["actions"]):
            continue
        if where not in s["targets"]:
            continue
        if s["keys"] is not None and not any(wildcard(p, key or "") for p in s["keys"]):
            continue
        return True
    return False


def partition_key(item):
    value = (item or {}).get("pk", {})
    return value.get("S")


def query_partition(body):
    """The value compared with `=` on the left of the key condition."""
    m = re.match(r"\s*\(?\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)", body.get("KeyConditionExpression", ""))
    if not m:
        return None
    return body.get("ExpressionAttributeValues", {}).get(m.group(2), {}).get("S")


def checks(operation, body):
    """(action, where, leading key) for every authorisation the request needs."""
    if operation in ("GetItem", "DeleteItem", "UpdateItem"):
        return [("dynamodb:" + operation, "table", partition_key(body.get("Key")))]
    if operation == "PutItem":
        return [("dynamodb:PutItem", "table", partition_key(body.get("Item")))]
    if operation == "Query":
        where = "index/" + body["IndexName"] if body.get("IndexName") else "table"
        return [("dynamodb:Query", where, query_partition(body))]
    if operation == "TransactWriteItems":
        out = []
        for part in body.get("TransactItems", []):
            for kind, action in (
                ("Put", "PutItem"),
                ("Update", "UpdateItem"),
                ("Delete", "DeleteItem"),
                ("ConditionCheck", "ConditionCheckItem"),
            ):
                if kind in part:
                    p = part[kind]
                    key = partition_key(p.get("Item") if kind == "Put" else p.get("Key"))
                    out.append(("dynamodb:" + action, "table", key))
        return out
    return [("dynamodb:" + operation, "table", None)]


def main():
    template, upstream, denials_path = sys.argv[1:4]
    requests_path = sys.argv[4] if len(sys.argv) > 4 else None
    policies = load_policies(template)
    up = urllib.parse.urlsplit(upstream)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            target = self.headers.get("X-Amz-Target", "")
            operation = target.split(".", 1)[-1]
            m = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
            function = m.group(1) if m else "?"
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            if requests_path:
                with lock, open(requests_path, "a") as f:
                    f.write(f"{function} {operation}\n")
            statements = policies.get(function)
            denied = []
            if statements is None:
                denied.append(f"unknown function {function!r} (access key id)")
            else:
                for action, where, key in checks(operation, body):
                    if not allowed(statements, action, where, key):
                        denied.append(f"{action} on {where} key {key!r}")
            if denied:
                line = f"{function}: {operation} denied: " + "; ".join(denied)
                with lock, open(denials_path, "a") as f:
                    f.write(line + "\n")
                payload = json.dumps(
                    {"__type": "com.amazon.coral.service#AccessDeniedException", "Message": line}
                ).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request("POST", self.path, body=raw, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            conn.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
