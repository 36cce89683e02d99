#!/usr/bin/env python3
"""Self-test of faultproxy.py: moto and the proxy on free loopback ports, boto3 through the proxy.

    .venv/bin/python scripts/test_faultproxy.py     (from the repository root; about 10-20 s)

Prints one line per check, then `N passed, M failed`; exits 1 if any check failed.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROXY = os.path.join(HERE, "faultproxy.py")
VENV_BIN = os.path.dirname(sys.executable)
MOTO = os.path.join(VENV_BIN, "moto_server")
if not os.path.exists(MOTO):
    MOTO = os.path.join(ROOT, ".venv", "bin", "moto_server")

# Nothing may go through an HTTP proxy of the environment, and no real AWS profile is used.
for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "AWS_PROFILE"):
    os.environ.pop(var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.retries.standard import ThrottledRetryableChecker  # noqa: E402

sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no scripts/__pycache__ in the clone
import faultproxy  # noqa: E402

DEADLINE = time.monotonic() + 55
PASSED = 0
FAILED = 0


def check(name: str, cond: bool, detail="") -> bool:
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print(f"  ok    {name}")
    else:
        FAILED += 1
        print(f"  FAIL  {name}  {detail}")
    return cond


def section(title: str):
    """Decorator: runs a test section; an exception counts as one failure."""

    def wrap(fn):
        def run(*args):
            print(f"-- {title}")
            if time.monotonic() > DEADLINE:
                check(f"{title}: time budget", False, "skipped: over the 55 s budget")
                return
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - a crashed section is a failed check
                check(f"{title}: no exception", False, f"{type(e).__name__}: {e}")
                traceback.print_exc()

        return run

    return wrap


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def start_proxy(upstream: str, *extra: str, tmp: str, name: str):
    port_file = os.path.join(tmp, f"{name}.port")
    err = open(os.path.join(tmp, f"{name}.err"), "w")
    proc = subprocess.Popen(
        [sys.executable, PROXY, "--listen", "127.0.0.1:0", "--upstream", upstream, "--port-file", port_file, *extra],
        stdout=subprocess.PIPE, stderr=err, text=True,
    )
    end = time.monotonic() + 10
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError(f"{name} did not start: " + open(err.name).read())
        time.sleep(0.02)
    port = int(open(port_file).read().strip())
    printed = proc.stdout.readline().strip()
    return proc, port, printed


class Control:
    def __init__(self, port: int):
        self.port = port

    def call(self, method: str, path: str, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, "/__faultproxy/" + path, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        out = resp.read()
        conn.close()
        return resp.status, json.loads(out) if out else None

    def rules(self, rules):
        status, body = self.call("POST", "rules", rules)
        assert status == 200, (status, body)

    def reset(self, seed=None):
        status, body = self.call("POST", "reset", {"seed": seed} if seed is not None else None)
        assert status == 200, (status, body)

    def log(self, since=0):
        return self.call("GET", f"log?since={since}")[1]

    def stats(self):
        return self.call("GET", "stats")[1]


# ---- an echo upstream, to prove byte-level forwarding -------------------------------------------


class EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []

    def log_message(self, *a):
        pass

    def _any(self):
        te = self.headers.get("Transfer-Encoding", "")
        body = b""
        if "chunked" in te.lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        elif self.headers.get("Content-Length"):
            body = self.rfile.read(int(self.headers["Content-Length"]))
        rec = {"method": self.command, "path": self.path, "headers": list(self.headers.items()),
               "body": body.decode("latin-1"), "chunked": "chunked" in te.lower()}
        EchoHandler.seen.append(rec)
        out = json.dumps(rec).encode()
        self.send_response(418, "I'm An Echo")
        self.send_header("X-Dup", "one")
        self.send_header("X-Dup", "two")
        self.send_header("x-amzn-RequestId", "echo-req-1")
        if "chunked=1" in self.path:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(out) // 2
            for part in (out[:half], out[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any


# ---- the checks -------------------------------------------------------------------------------


@section("unit: operation and service detection")
def test_identify():
    scope = "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"
    apigw = [("Authorization", scope.format("apigateway"))]
    cases = [
        ("POST", "/restapis", "CreateRestApi"),
        ("GET", "/restapis", "GetRestApis"),
        ("GET", "/restapis/a1", "GetRestApi"),
        ("DELETE", "/restapis/a1", "DeleteRestApi"),
        ("POST", "/restapis/a1/resources/p1", "CreateResource"),
        ("GET", "/restapis/a1/resources", "GetResources"),
        ("DELETE", "/restapis/a1/resources/r1", "DeleteResource"),
        ("PUT", "/restapis/a1/resources/r1/methods/GET", "PutMethod"),
        ("GET", "/restapis/a1/resources/r1/methods/GET", "GetMethod"),
        ("DELETE", "/restapis/a1/resources/r1/methods/GET", "DeleteMethod"),
        ("PUT", "/restapis/a1/resources/r1/methods/GET/integration", "PutIntegration"),
        ("DELETE", "/restapis/a1/resources/r1/methods/GET/integration", "DeleteIntegration"),
        ("PUT", "/restapis/a1/resources/r1/methods/GET/responses/200", "PutMethodResponse"),
        ("DELETE", "/restapis/a1/resources/r1/methods/GET/responses/200", "DeleteMethodResponse"),
        ("PUT", "/restapis/a1/resources/r1/methods/GET/integration/responses/200", "PutIntegrationResponse"),
        ("GET", "/restapis/a1/resources/r1/methods/GET/integration/responses/200", "GetIntegrationResponse"),
        ("DELETE", "/restapis/a1/resources/r1/methods/GET/integration/responses/200", "DeleteIntegrationResponse"),
        ("POST", "/restapis/a1/deployments", "CreateDeployment"),
        ("DELETE", "/restapis/a1/deployments/d1", "DeleteDeployment"),
        ("POST", "/restapis/a1/stages", "CreateStage"),
        ("PATCH", "/restapis/a1/stages/prod", "UpdateStage"),
        ("GET", "/restapis/a1/stages/prod", "GetStage"),
        ("DELETE", "/restapis/a1/stages/prod", "DeleteStage"),
        ("GET", "/account", "GetAccount"),
        ("PATCH", "/account", "UpdateAccount"),
        ("GET", "/nothing/here", "Unknown"),
    ]
    bad = [(m, p, faultproxy.identify(m, p, apigw)["op"], want) for m, p, want in cases
           if faultproxy.identify(m, p, apigw)["op"] != want]
    check("API Gateway method+path table", not bad, bad)
    efs = [("Authorization", scope.format("elasticfilesystem"))]
    cases = [
        ("POST", "/2015-02-01/file-systems", "CreateFileSystem"),
        ("GET", "/2015-02-01/file-systems?FileSystemId=fs-1", "DescribeFileSystems"),
        ("DELETE", "/2015-02-01/file-systems/fs-1", "DeleteFileSystem"),
        ("POST", "/2015-02-01/mount-targets", "CreateMountTarget"),
        ("GET", "/2015-02-01/mount-targets?FileSystemId=fs-1", "DescribeMountTargets"),
        ("DELETE", "/2015-02-01/mount-targets/fsmt-1", "DeleteMountTarget"),
        ("PUT", "/2015-02-01/file-systems/fs-1/lifecycle-configuration", "PutLifecycleConfiguration"),
        ("POST", "/2015-02-01/resource-tags/fs-1", "TagResource"),
    ]
    bad = [(m, p, faultproxy.identify(m, p, efs)["op"], want) for m, p, want in cases
           if faultproxy.identify(m, p, efs)["op"] != want]
    check("EFS method+path table", not bad, bad)
    s3 = [("Authorization", scope.format("s3"))]
    cases = [
        ("PUT", "/state-bucket/ironplan/demo-dev.lock", "PutObject"),
        ("GET", "/state-bucket/ironplan/demo-dev.json", "GetObject"),
        ("DELETE", "/state-bucket/ironplan/demo-dev.lock", "DeleteObject"),
        ("HEAD", "/state-bucket", "HeadBucket"),
        ("PUT", "/state-bucket", "CreateBucket"),
    ]
    bad = [(m, p, faultproxy.identify(m, p, s3)["op"], want) for m, p, want in cases
           if faultproxy.identify(m, p, s3)["op"] != want]
    check("S3 path-style method+path table", not bad, bad)
    check("S3 errors are S3's XML", faultproxy.identify("PUT", "/b/k", s3)["protocol"] == "restXml")
    check("S3 throttling is SlowDown", faultproxy.throttle_code("restXml", "s3") == "SlowDown")
    r = faultproxy.identify("POST", "/", [("X-Amz-Target", "Kinesis_20131202.CreateStream")])
    check("X-Amz-Target Kinesis_20131202.CreateStream", r == {"op": "CreateStream", "service": "kinesis", "protocol": "awsJson"}, r)
    r = faultproxy.identify("POST", "/", [("x-amz-target", "AmazonEC2ContainerServiceV20141113.CreateService")])
    check("X-Amz-Target ...V20141113.CreateService", r["op"] == "CreateService" and r["service"] == "ecs", r)
    r = faultproxy.identify("POST", "/", [("Authorization", scope.format("rds")), ("Content-Type", "application/x-www-form-urlencoded")],
                            b"Action=CreateDBCluster&Version=2014-10-31")
    check("query body Action= (rds)", r == {"op": "CreateDBCluster", "service": "rds", "protocol": "awsQuery"}, r)
    r = faultproxy.identify("GET", "/?Action=DescribeVpcs&Version=2016-11-15", [("Authorization", scope.format("ec2"))])
    check("query string Action= (ec2)", r == {"op": "DescribeVpcs", "service": "ec2", "protocol": "ec2Query"}, r)
    r = faultproxy.identify("POST", "/", [])
    check("unknown request", r["op"] == "Unknown", r)
    for bad_rules in ([{"op": "X"}], [{"op": "X", "fail": {"status": 400}}], [{"op": "X", "throttle": True, "rate": 2}],
                      [{"op": "X", "reset": True, "fail": {"code": "A"}}], {"op": "X"}, [{"op": "X", "bogus": 1, "reset": True}]):
        try:
            faultproxy.parse_rules(bad_rules)
            check(f"invalid rules refused: {bad_rules}", False)
        except faultproxy.RuleError:
            pass
    check("invalid rules refused", True)


@section("refusals: non-loopback addresses")
def test_refusals():
    for args in (["--listen", "127.0.0.1:0", "--upstream", "http://192.0.2.1:80"],
                 ["--listen", "0.0.0.0:0", "--upstream", "http://127.0.0.1:9"],
                 ["--listen", "127.0.0.1:0", "--upstream", "https://127.0.0.1:9"],
                 ["--listen", "127.0.0.1:0", "--upstream", "http://example.com:80"]):
        p = subprocess.run([sys.executable, PROXY, *args], capture_output=True, text=True, timeout=10)
        check(f"refused {' '.join(args)}", p.returncode != 0 and "faultproxy:" in p.stderr, (p.returncode, p.stderr))


@section("forwarding is byte-for-byte (echo upstream)")
def test_echo(tmp):
    echo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    echo.daemon_threads = True
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    config = os.path.join(tmp, "rules.json")
    with open(config, "w") as f:
        json.dump([{"op": "ConfiguredOp", "fail": {"status": 400, "code": "FromConfig", "message": "configured"}}], f)
    proc, port, printed = start_proxy(f"http://127.0.0.1:{echo.server_address[1]}", "--config", config, "--seed", "1",
                                      tmp=tmp, name="echo-proxy")
    try:
        check("prints its port on stdout, same as --port-file", printed == str(port), (printed, port))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        hdrs = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
                "X-Amz-Date": "20240101T000000Z", "X-Amz-Security-Token": "tok/en+=", "X-Custom": "  spaced value",
                "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"}
        body = b'{"Limit": 5, "bin": "\xc3\xa9\x00"}'
        conn.request("PATCH", "/some/path%2Fenc?b=2&a=1&a=0", body=body, headers=hdrs)
        r1 = conn.getresponse()
        out1 = r1.read()
        seen = EchoHandler.seen[-1]
        check("status and reason unchanged", (r1.status, r1.reason) == (418, "I'm An Echo"), (r1.status, r1.reason))
        check("duplicate response headers kept", r1.headers.get_all("X-Dup") == ["one", "two"], r1.headers.get_all("X-Dup"))
        check("response body unchanged", json.loads(out1) == json.loads(json.dumps(seen)), out1[:200])
        check("method, path and query unchanged", (seen["method"], seen["path"]) == ("PATCH", "/some/path%2Fenc?b=2&a=1&a=0"), seen)
        check("request body unchanged", seen["body"].encode("latin-1") == body, seen["body"])
        got = {k: v for k, v in seen["headers"]}
        missing = {k: v for k, v in hdrs.items() if got.get(k) != v.strip()}
        check("Authorization / X-Amz-* / custom headers unchanged", not missing, (missing, got))
        check("Host header unchanged (the proxy's address, as signed)", got.get("Host") == f"127.0.0.1:{port}", got.get("Host"))
        # same keep-alive connection: a chunked request, and a chunked response
        conn.putrequest("POST", "/chunked?chunked=1", skip_accept_encoding=True)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.putheader("Content-Type", "application/octet-stream")
        conn.endheaders()
        for part in (b"hello ", b"chunked ", b"world"):
            conn.send(b"%x\r\n%s\r\n" % (len(part), part))
        conn.send(b"0\r\n\r\n")
        r2 = conn.getresponse()
        out2 = r2.read()
        seen = EchoHandler.seen[-1]
        check("chunked request body forwarded chunked", seen["chunked"] and seen["body"] == "hello chunked world", seen)
        check("chunked response returned chunked, same body", r2.chunked and json.loads(out2) == json.loads(json.dumps(seen)), (r2.chunked, out2[:100]))
        conn.request("HEAD", "/head", headers={"Authorization": hdrs["Authorization"]})
        r3 = conn.getresponse()
        r3.read()
        check("HEAD keeps Content-Length, no body, keep-alive", r3.status == 418 and r3.headers.get("Content-Length") not in (None, "0"), dict(r3.headers))
        # the rule from --config, in awsJson wire format
        conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "Svc_2020.ConfiguredOp", "Content-Type": "application/x-amz-json-1.0"})
        r4 = conn.getresponse()
        out4 = json.loads(r4.read())
        check("--config rule applied, awsJson error format",
              r4.status == 400 and out4 == {"__type": "FromConfig", "message": "configured"}
              and r4.headers.get("x-amzn-ErrorType") == "FromConfig" and r4.headers.get("Content-Type") == "application/x-amz-json-1.0",
              (r4.status, out4, dict(r4.headers)))
        conn.close()
        ctl = Control(port)
        status, _ = ctl.call("GET", "nope")
        check("unknown control endpoint is 404", status == 404, status)
        status, _ = ctl.call("POST", "rules", [{"op": "X"}])
        check("invalid rules are refused with 400", status == 400, status)
        proc.send_signal(signal.SIGINT)
        check("exits cleanly on SIGINT", proc.wait(timeout=5) == 0, proc.returncode)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        echo.shutdown()
        echo.server_close()


def client_error(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        return e
    return None


@section("(a) a call is forwarded unchanged")
def test_forward(ctx):
    kms, direct_kms, ctl = ctx["kms"], ctx["direct_kms"], ctx["ctl"]
    ctl.reset()
    key = kms.create_key(Description="faultproxy self-test")["KeyMetadata"]
    via_proxy = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    direct = direct_kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    check("create_key then describe_key through the proxy", via_proxy["KeyId"] == key["KeyId"] and via_proxy["Description"] == "faultproxy self-test")
    check("same answer through the proxy as from moto directly", via_proxy == direct, (via_proxy, direct))
    log = ctl.log()
    got = [(e["op"], e["service"], e["protocol"], e["status"], e["fault"]) for e in log]
    want = [("CreateKey", "kms", "awsJson", 200, None), ("DescribeKey", "kms", "awsJson", 200, None)]
    check("log: CreateKey, DescribeKey forwarded with status 200", got == want, got)
    ctx["key_id"] = key["KeyId"]


@section("(b) fail the next N calls")
def test_fail(ctx):
    kms, ctl = ctx["kms"], ctx["ctl"]
    ctl.reset()
    ctl.rules([{"op": "CreateKey", "fail": {"status": 400, "code": "TagException", "message": "injected tag failure"}, "count": 2}])
    errors = [client_error(kms.create_key, Description="x") for _ in range(3)]
    for i in (0, 1):
        e = errors[i]
        check(f"CreateKey call {i + 1} fails with TagException",
              e is not None and e.response["Error"]["Code"] == "TagException"
              and e.response["Error"]["Message"] == "injected tag failure"
              and e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e and e.response)
    check("CreateKey call 3 succeeds", errors[2] is None, errors[2])
    check("other operations untouched", client_error(kms.describe_key, KeyId=ctx["key_id"]) is None)
    ctl.rules([{"op": "*", "service": "kms", "fail": {"status": 409, "code": "DisabledException"}}])
    e = client_error(kms.list_keys)
    check("count omitted = permanent; service scoping matches kms", e is not None and e.response["Error"]["Code"] == "DisabledException", e)
    e2 = client_error(kms.list_keys)
    check("still failing on the next call", e2 is not None and e2.response["Error"]["Code"] == "DisabledException", e2)
    check("service scoping: iam untouched", client_error(ctx["iam"].list_roles) is None)
    ctl.rules([])


@section("(c2) token-bucket limits")
def test_limit(ctx):
    kms, ctl = ctx["kms"], ctx["ctl"]
    ctl.reset()
    ctl.rules([{"op": "ListKeys", "throttle": True, "limit": {"rate": 0.5, "burst": 2}}])
    errors = [client_error(kms.list_keys) for _ in range(3)]
    check("a burst of 2 within the limit goes through", errors[0] is None and errors[1] is None, errors[:2])
    check("the third call beyond the bucket is throttled",
          errors[2] is not None and "Throttl" in errors[2].response["Error"]["Code"], errors[2])
    ctl.rules([])


@section("(c) throttling")
def test_throttle(ctx):
    ec2, ctl = ctx["ec2"], ctx["ctl"]
    codes = ThrottledRetryableChecker._THROTTLED_ERROR_CODES
    ctl.reset()
    ctl.rules([{"op": "DescribeVpcs", "service": "ec2", "throttle": True, "rate": 1.0}])
    e = client_error(ec2.describe_vpcs)
    code = e and e.response["Error"]["Code"]
    check(f"ec2 DescribeVpcs throttled: code {code!r} is one botocore treats as throttling", e is not None and code in codes, e and e.response)
    check("ec2 throttling code is EC2's own RequestLimitExceeded", code == "RequestLimitExceeded", code)
    ctl.rules([{"op": "*", "throttle": True}])
    e = client_error(ctx["kms"].list_keys)
    check("awsJson (kms) throttled: ThrottlingException", e is not None and e.response["Error"]["Code"] == "ThrottlingException", e and e.response)
    e = client_error(ctx["iam"].list_roles)
    check("awsQuery (iam) throttled: Throttling", e is not None and e.response["Error"]["Code"] == "Throttling", e and e.response)
    e = client_error(ctx["apigw"].get_rest_apis)
    check("restJson (apigateway) throttled: ThrottlingException", e is not None and e.response["Error"]["Code"] == "ThrottlingException", e and e.response)
    # botocore's standard retry mode recognises it and retries: 2 throttles, then success.
    ctl.reset()
    ctl.rules([{"op": "DescribeVpcs", "throttle": True, "count": 2}])
    retrying = ctx["session"].client("ec2", endpoint_url=ctx["url"], config=Config(retries={"total_max_attempts": 3, "mode": "standard"}))
    t0 = time.monotonic()
    resp = retrying.describe_vpcs()
    check("botocore retries the throttled call and succeeds on the 3rd attempt",
          resp["ResponseMetadata"]["RetryAttempts"] == 2, (resp["ResponseMetadata"], time.monotonic() - t0))
    # 5xx
    ctl.rules([{"op": "ListRoles", "server_error": 503}, {"op": "ListKeys", "server_error": True}])
    e = client_error(ctx["iam"].list_roles)
    check("server_error 503 (iam): ServiceUnavailable / 503", e is not None and e.response["Error"]["Code"] == "ServiceUnavailable"
          and e.response["ResponseMetadata"]["HTTPStatusCode"] == 503, e and e.response)
    e = client_error(ctx["kms"].list_keys)
    check("server_error default (kms): InternalFailure / 500", e is not None and e.response["Error"]["Code"] == "InternalFailure"
          and e.response["ResponseMetadata"]["HTTPStatusCode"] == 500, e and e.response)
    # rate + seed: reproducible after a reset with the same seed
    patterns = []
    for _ in range(2):
        ctl.reset(seed=7)
        ctl.rules([{"op": "ListKeys", "throttle": True, "rate": 0.5}])
        patterns.append([client_error(ctx["kms"].list_keys) is not None for _ in range(12)])
    check("rate 0.5 with a seed: same pattern after reset with the same seed, both outcomes seen",
          patterns[0] == patterns[1] and any(patterns[0]) and not all(patterns[0]), patterns)
    ctl.reset()


@section("(d) query-protocol and REST-JSON failures parse to the right codes")
def test_protocols(ctx):
    ctl, iam, apigw, ec2 = ctx["ctl"], ctx["iam"], ctx["apigw"], ctx["ec2"]
    ctl.reset()
    ctl.rules([{"op": "CreateRole", "service": "iam", "fail": {"status": 409, "code": "EntityAlreadyExists", "message": "Role with name r already exists."}, "count": 1}])
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    e = client_error(iam.create_role, RoleName="fp-role", AssumeRolePolicyDocument=trust)
    check("awsQuery (iam CreateRole): EntityAlreadyExists, message, 409",
          e is not None and e.response["Error"]["Code"] == "EntityAlreadyExists"
          and e.response["Error"]["Message"] == "Role with name r already exists."
          and e.response["Error"].get("Type") == "Sender" and e.response["ResponseMetadata"]["HTTPStatusCode"] == 409, e and e.response)
    check("iam CreateRole succeeds afterwards", client_error(iam.create_role, RoleName="fp-role", AssumeRolePolicyDocument=trust) is None)
    ctl.rules([{"op": "CreateVpc", "fail": {"code": "VpcLimitExceeded", "message": "The maximum number of VPCs has been reached."}, "count": 1}])
    e = client_error(ec2.create_vpc, CidrBlock="10.9.0.0/16")
    check("ec2Query (ec2 CreateVpc): VpcLimitExceeded", e is not None and e.response["Error"]["Code"] == "VpcLimitExceeded"
          and e.response["Error"]["Message"] == "The maximum number of VPCs has been reached.", e and e.response)
    api = apigw.create_rest_api(name="fp-api")["id"]
    root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=api, resourceId=root, httpMethod="GET", statusCode="200")
    ctl.rules([{"op": "PutIntegrationResponse", "service": "apigateway", "fail": {"status": 404, "code": "NotFoundException", "message": "Invalid Integration identifier specified"}, "count": 1}])
    e = client_error(apigw.put_integration_response, restApiId=api, resourceId=root, httpMethod="GET", statusCode="200", selectionPattern="")
    check("restJson (apigateway PutIntegrationResponse): NotFoundException, message, 404",
          e is not None and e.response["Error"]["Code"] == "NotFoundException"
          and e.response["Error"]["Message"] == "Invalid Integration identifier specified"
          and e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e and e.response)
    check("PutIntegrationResponse succeeds afterwards",
          client_error(apigw.put_integration_response, restApiId=api, resourceId=root, httpMethod="GET", statusCode="200", selectionPattern="") is None)
    ctl.rules([{"op": "CreateStream", "fail": {"code": "ResourceInUseException", "message": "in use"}, "count": 1}])
    e = client_error(ctx["kinesis"].create_stream, StreamName="fp-stream", ShardCount=1)
    check("awsJson (kinesis CreateStream): ResourceInUseException", e is not None and e.response["Error"]["Code"] == "ResourceInUseException", e and e.response)
    ctl.rules([{"op": "CreateFileSystem", "service": "efs", "fail": {"status": 409, "code": "FileSystemAlreadyExists"}, "count": 1}])
    e = client_error(ctx["efs"].create_file_system, CreationToken="fp-x")
    check("restJson (efs CreateFileSystem, service alias 'efs'): FileSystemAlreadyExists",
          e is not None and e.response["Error"]["Code"] == "FileSystemAlreadyExists", e and e.response)
    apigw.delete_rest_api(restApiId=api)
    ctl.reset()


@section("(e) operation detection: API Gateway, EFS, JSON targets (via /__faultproxy/log)")
def test_detection(ctx):
    ctl, apigw, efs, ec2 = ctx["ctl"], ctx["apigw"], ctx["efs"], ctx["ec2"]
    ctl.reset()
    api = apigw.create_rest_api(name="fp-detect")["id"]
    root = [r for r in apigw.get_resources(restApiId=api)["items"] if r["path"] == "/"][0]["id"]
    res = apigw.create_resource(restApiId=api, parentId=root, pathPart="items")["id"]
    kw = dict(restApiId=api, resourceId=res, httpMethod="GET")
    apigw.put_method(**kw, authorizationType="NONE")
    apigw.put_integration(**kw, type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(**kw, statusCode="200")
    apigw.put_integration_response(**kw, statusCode="200", selectionPattern="")
    dep = apigw.create_deployment(restApiId=api)["id"]
    apigw.create_stage(restApiId=api, stageName="prod", deploymentId=dep)
    apigw.update_stage(restApiId=api, stageName="prod", patchOperations=[{"op": "replace", "path": "/tracingEnabled", "value": "true"}])
    apigw.get_stage(restApiId=api, stageName="prod")
    apigw.get_account()
    client_error(apigw.update_account, patchOperations=[{"op": "replace", "path": "/cloudwatchRoleArn", "value": "arn:aws:iam::123456789012:role/fp"}])
    apigw.delete_stage(restApiId=api, stageName="prod")
    client_error(apigw.delete_deployment, restApiId=api, deploymentId=dep)
    apigw.delete_integration_response(**kw, statusCode="200")
    apigw.delete_method_response(**kw, statusCode="200")
    apigw.delete_integration(**kw)
    apigw.delete_method(**kw)
    apigw.delete_resource(restApiId=api, resourceId=res)
    apigw.delete_rest_api(restApiId=api)
    want_apigw = ["CreateRestApi", "GetResources", "CreateResource", "PutMethod", "PutIntegration", "PutMethodResponse",
                  "PutIntegrationResponse", "CreateDeployment", "CreateStage", "UpdateStage", "GetStage", "GetAccount",
                  "UpdateAccount", "DeleteStage", "DeleteDeployment", "DeleteIntegrationResponse", "DeleteMethodResponse",
                  "DeleteIntegration", "DeleteMethod", "DeleteResource", "DeleteRestApi"]
    log = ctl.log()
    got = [e["op"] for e in log if e["service"] == "apigateway"]
    check("API Gateway operations detected in order", got == want_apigw, list(zip(got, want_apigw)))
    check("API Gateway calls are restJson and forwarded", all(e["protocol"] == "restJson" and e["fault"] is None for e in log), log[:3])

    seq = log[-1]["seq"] if log else 0
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    fs = efs.create_file_system(CreationToken="fp-detect", Encrypted=True)["FileSystemId"]
    mt = efs.create_mount_target(FileSystemId=fs, SubnetId=subnet)["MountTargetId"]
    efs.describe_file_systems(FileSystemId=fs)
    efs.describe_mount_targets(FileSystemId=fs)
    efs.delete_mount_target(MountTargetId=mt)
    efs.delete_file_system(FileSystemId=fs)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)
    log = ctl.log(since=seq)
    got = [(e["service"], e["op"]) for e in log]
    want = [("ec2", "CreateVpc"), ("ec2", "CreateSubnet"),
            ("elasticfilesystem", "CreateFileSystem"), ("elasticfilesystem", "CreateMountTarget"),
            ("elasticfilesystem", "DescribeFileSystems"), ("elasticfilesystem", "DescribeMountTargets"),
            ("elasticfilesystem", "DeleteMountTarget"), ("elasticfilesystem", "DeleteFileSystem"),
            ("ec2", "DeleteSubnet"), ("ec2", "DeleteVpc")]
    check("EFS (and EC2 query) operations detected in order", got == want, list(zip(got, want)))
    check("log?since=SEQ returns only newer entries", log and log[0]["seq"] == seq + 1, log[:1])

    seq = log[-1]["seq"] if log else 0
    ctx["kinesis"].create_stream(StreamName="fp-detect", ShardCount=1)
    ecs = ctx["session"].client("ecs", endpoint_url=ctx["url"], config=ctx["config"])
    ecs.create_cluster(clusterName="fp-detect")
    td = ecs.register_task_definition(family="fp", containerDefinitions=[{"name": "c", "image": "nginx", "memory": 128}])
    ecs.create_service(cluster="fp-detect", serviceName="fp", taskDefinition=td["taskDefinition"]["taskDefinitionArn"], desiredCount=1)
    got = [(e["service"], e["op"], e["protocol"]) for e in ctl.log(since=seq)]
    want = [("kinesis", "CreateStream", "awsJson"), ("ecs", "CreateCluster", "awsJson"),
            ("ecs", "RegisterTaskDefinition", "awsJson"), ("ecs", "CreateService", "awsJson")]
    check("X-Amz-Target operations (kinesis, ecs) detected", got == want, got)


@section("(f) stats count correctly")
def test_stats(ctx):
    ctl, kms = ctx["ctl"], ctx["kms"]
    ctl.reset()
    ctl.rules([{"op": "DescribeKey", "fail": {"code": "NotFoundException"}, "count": 1},
               {"op": "ListKeys", "delay_ms": 300, "count": 1}])
    for _ in range(3):
        client_error(kms.describe_key, KeyId=ctx["key_id"])
    t0 = time.monotonic()
    kms.list_keys()
    first = time.monotonic() - t0
    t0 = time.monotonic()
    kms.list_keys()
    second = time.monotonic() - t0
    stats = ctl.stats()
    ops = stats["operations"]
    check("DescribeKey: 3 calls, 2 forwarded, 1 fail",
          ops.get("DescribeKey") == {"calls": 3, "forwarded": 2, "faults": {"fail": 1}}, ops.get("DescribeKey"))
    check("ListKeys: 2 calls, 2 forwarded, 1 delay",
          ops.get("ListKeys") == {"calls": 2, "forwarded": 2, "faults": {"delay": 1}}, ops.get("ListKeys"))
    check("per-service breakdown", stats["services"].get("kms", {}).get("DescribeKey") == ops.get("DescribeKey"), stats["services"])
    check("totals", stats["total"] == {"calls": 5, "forwarded": 4, "faults": {"fail": 1, "delay": 1}}, stats["total"])
    check("rules report remaining and injected", [(r["remaining"], r["injected"]) for r in stats["rules"]] == [(0, 1), (0, 1)], stats["rules"])
    check("delay_ms delays only the first ListKeys", first >= 0.3 and second < 0.3, (first, second))
    log = ctl.log()
    check("log: 5 entries in order with status and fault",
          [(e["op"], e["status"], e["fault"]) for e in log]
          == [("DescribeKey", 400, "fail"), ("DescribeKey", 200, None), ("DescribeKey", 200, None), ("ListKeys", 200, "delay"), ("ListKeys", 200, None)],
          log)
    ctl.reset()
    stats = ctl.stats()
    check("reset clears stats, rules and log", stats["total"]["calls"] == 0 and stats["rules"] == [] and ctl.log() == [], stats)


@section("(g) reset the connection")
def test_reset(ctx):
    ctl, kms = ctx["ctl"], ctx["kms"]
    ctl.reset()
    ctl.rules([{"op": "ListKeys", "reset": True, "count": 1}])
    err = None
    try:
        kms.list_keys()
    except Exception as e:  # noqa: BLE001
        err = e
    check("a connection error, not an AWS error",
          isinstance(err, (botocore.exceptions.HTTPClientError, botocore.exceptions.ConnectionError)), repr(err))
    check("the next call succeeds", client_error(kms.list_keys) is None)
    stats = ctl.stats()["operations"].get("ListKeys")
    check("stats: 2 calls, 1 forwarded, 1 reset", stats == {"calls": 2, "forwarded": 1, "faults": {"reset": 1}}, stats)
    log = ctl.log()
    check("log: reset entry has no status", [(e["status"], e["fault"]) for e in log] == [(None, "reset"), (200, None)], log)


def s3_raw(port: int, method: str, path: str, region: str, host: str | None = None, body: bytes = b""):
    """A path-style (or, with `host`, virtual-hosted) S3 request whose SigV4 scope says `region`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    auth = f"AWS4-HMAC-SHA256 Credential=testing/20240101/{region}/s3/aws4_request, SignedHeaders=host, Signature=0"
    headers = {"Authorization": auth, "Host": host or f"127.0.0.1:{port}", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}
    if method in ("PUT", "POST"):
        headers["Content-Length"] = str(len(body))
    conn.request(method, path, body=body or None, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


@section("(h) S3 buckets in another region: 301 / 400 with x-amz-bucket-region")
def test_bucket_region(ctx, tmp):
    ctl, port, direct_s3 = ctx["ctl"], ctx["port"], ctx["direct_s3"]
    ctl.reset()
    for b in ("far-bucket", "near-bucket"):
        direct_s3.create_bucket(Bucket=b)
    status, body = ctl.call("POST", "s3-bucket-regions", {"far-bucket": "eu-west-1"})
    check("POST s3-bucket-regions", status == 200 and body == {"buckets": {"far-bucket": {"region": "eu-west-1", "status": 301}}}, body)
    check("GET s3-bucket-regions", ctl.call("GET", "s3-bucket-regions") == (200, body), ctl.call("GET", "s3-bucket-regions"))

    status, headers, data = s3_raw(port, "HEAD", "/far-bucket", "us-east-1")
    check("HeadBucket signed for us-east-1: 301, x-amz-bucket-region, empty body",
          (status, headers.get("x-amz-bucket-region"), data) == (301, "eu-west-1", b""), (status, headers, data))
    status, headers, data = s3_raw(port, "PUT", "/far-bucket/ironplan/s.lock", "us-east-1", body=b"{}")
    check("PutObject signed for us-east-1: 301 PermanentRedirect XML with the header",
          status == 301 and b"<Code>PermanentRedirect</Code>" in data and b"far-bucket.s3.eu-west-1.amazonaws.com" in data
          and headers.get("x-amz-bucket-region") == "eu-west-1", (status, headers, data))
    keys = [o["Key"] for o in direct_s3.list_objects_v2(Bucket="far-bucket").get("Contents", [])]
    check("the refused PutObject never reached moto", keys == [], keys)
    status, headers, data = s3_raw(port, "PUT", "/ironplan/v.lock", "us-east-1", host=f"far-bucket.localhost:{port}", body=b"{}")
    check("virtual-hosted style (Host: far-bucket.…) is redirected too", status == 301 and headers.get("x-amz-bucket-region") == "eu-west-1", (status, data))

    status, headers, data = s3_raw(port, "PUT", "/far-bucket/ironplan/s.lock", "eu-west-1", body=b"{}")
    check("PutObject signed for eu-west-1 is forwarded to moto", status == 200, (status, data))
    keys = [o["Key"] for o in direct_s3.list_objects_v2(Bucket="far-bucket").get("Contents", [])]
    check("and the object is in moto", keys == ["ironplan/s.lock"], keys)
    status, headers, _ = s3_raw(port, "HEAD", "/far-bucket", "eu-west-1")
    check("HeadBucket signed for eu-west-1: 200 with the bucket's region (moto says us-east-1)",
          (status, headers.get("x-amz-bucket-region")) == (200, "eu-west-1"), (status, headers))
    status, headers, _ = s3_raw(port, "HEAD", "/near-bucket", "us-east-1")
    check("another bucket is forwarded as before", (status, headers.get("x-amz-bucket-region")) == (200, "us-east-1"), (status, headers))

    log = ctl.log()
    got = [(e["op"], e["region"], e["status"], e["fault"]) for e in log]
    want = [("HeadBucket", "us-east-1", 301, "redirect"), ("PutObject", "us-east-1", 301, "redirect"),
            ("PutObject", "us-east-1", 301, "redirect"), ("PutObject", "eu-west-1", 200, None),
            ("HeadBucket", "eu-west-1", 200, None), ("HeadBucket", "us-east-1", 200, None)]
    check("log: each call's signing region, redirects as faults", got == want, got)
    check("stats count redirects", ctl.stats()["operations"]["PutObject"]["faults"] == {"redirect": 2}, ctl.stats()["operations"])

    # The 400 style: AuthorizationHeaderMalformed with <Region> (what S3 answers some regions' calls).
    ctl.call("POST", "s3-bucket-regions", {"buckets": {"far-bucket": {"region": "eu-west-1", "status": 400}}})
    status, headers, data = s3_raw(port, "GET", "/far-bucket/ironplan/s.lock", "us-east-1")
    check("GetObject, 400 style: AuthorizationHeaderMalformed with <Region>",
          status == 400 and b"<Code>AuthorizationHeaderMalformed</Code>" in data and b"<Region>eu-west-1</Region>" in data
          and headers.get("x-amz-bucket-region") == "eu-west-1", (status, headers, data))
    status, headers, data = s3_raw(port, "HEAD", "/far-bucket", "us-east-1")
    check("HeadBucket, 400 style: 400, the header, no body", (status, headers.get("x-amz-bucket-region"), data) == (400, "eu-west-1", b""), (status, headers))

    # The real SDK signing for the bucket's region goes through; the rules apply to it as before.
    s3_eu = ctx["session"].client("s3", endpoint_url=ctx["url"], region_name="eu-west-1", config=ctx["s3_config"])
    s3_eu.put_object(Bucket="far-bucket", Key="boto3.json", Body=b"{}")
    check("boto3 in eu-west-1 through the proxy: PutObject reaches moto",
          direct_s3.get_object(Bucket="far-bucket", Key="boto3.json")["Body"].read() == b"{}")
    ctl.rules([{"op": "GetObject", "server_error": 503, "count": 1}])
    err = client_error(s3_eu.get_object, Bucket="far-bucket", Key="boto3.json")
    check("a rule still applies to a call signed for the right region",
          err is not None and err.response["ResponseMetadata"]["HTTPStatusCode"] == 503, err)
    ctl.rules([])

    for bad in ({"Bad_Bucket": "eu-west-1"}, {"far-bucket": "Europe"}, {"far-bucket": {"region": "eu-west-1", "status": 302}},
                ["far-bucket"], {"far-bucket": {"region": "eu-west-1", "extra": 1}}):
        status, body = ctl.call("POST", "s3-bucket-regions", bad)
        check(f"refused {bad}", status == 400 and "error" in body, (status, body))
    check("a refused body changes nothing",
          ctl.call("GET", "s3-bucket-regions")[1] == {"buckets": {"far-bucket": {"region": "eu-west-1", "status": 400}}})
    ctl.reset()
    check("reset leaves the bucket regions (configuration, like the latency model)",
          ctl.call("GET", "s3-bucket-regions")[1]["buckets"] != {})
    ctl.call("POST", "s3-bucket-regions", {})
    status, _, _ = s3_raw(port, "HEAD", "/far-bucket", "us-east-1")
    check("an empty map: forwarded again", status == 200, status)

    # The command-line option.
    proc, p2, _ = start_proxy(ctx["upstream"], "--s3-bucket-region", "far-bucket=eu-west-1",
                              "--s3-bucket-region", "other-bucket=ap-south-1", tmp=tmp, name="proxy-regions")
    try:
        got = Control(p2).call("GET", "s3-bucket-regions")[1]["buckets"]
        check("--s3-bucket-region BUCKET=REGION, repeatable",
              {b: v["region"] for b, v in got.items()} == {"far-bucket": "eu-west-1", "other-bucket": "ap-south-1"}, got)
        status, headers, _ = s3_raw(p2, "HEAD", "/far-bucket", "us-east-1")
        check("and in force from the start", (status, headers.get("x-amz-bucket-region")) == (301, "eu-west-1"), (status, headers))
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    p = subprocess.run([sys.executable, PROXY, "--upstream", ctx["upstream"], "--s3-bucket-region", "far-bucket"],
                       capture_output=True, text=True, timeout=10)
    check("--s3-bucket-region without =REGION is refused", p.returncode != 0 and "BUCKET=REGION" in p.stderr, p.stderr)


def main() -> int:
    t_start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="faultproxy-test-")
    moto = proxy = None
    try:
        test_identify()
        test_refusals()
        test_echo(tmp)

        moto_port = free_port()
        moto_log = open(os.path.join(tmp, "moto.log"), "w")
        moto = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(moto_port)], stdout=moto_log, stderr=subprocess.STDOUT)
        proxy, port, _ = start_proxy(f"http://127.0.0.1:{moto_port}", "--seed", "42", tmp=tmp, name="proxy")
        if not wait_port(moto_port, 30):
            check("moto starts", False, open(moto_log.name).read()[-2000:])
            return 1
        url = f"http://127.0.0.1:{port}"
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        # botocore's retries={"max_attempts": N} counts *retries* (N + 1 attempts in all);
        # total_max_attempts=1 is the one that really disables them.
        config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=20)
        ctx = {"session": session, "url": url, "config": config, "ctl": Control(port)}
        for svc, name in (("kms", "kms"), ("ec2", "ec2"), ("iam", "iam"), ("apigateway", "apigw"), ("efs", "efs"), ("kinesis", "kinesis")):
            ctx[name] = session.client(svc, endpoint_url=url, config=config)
        ctx["direct_kms"] = session.client("kms", endpoint_url=f"http://127.0.0.1:{moto_port}", config=config)
        ctx["s3_config"] = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=20,
                                  s3={"addressing_style": "path"})
        ctx["direct_s3"] = session.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}", config=ctx["s3_config"])
        ctx["port"], ctx["upstream"] = port, f"http://127.0.0.1:{moto_port}"

        test_forward(ctx)
        test_fail(ctx)
        test_limit(ctx)
        test_throttle(ctx)
        test_protocols(ctx)
        test_detection(ctx)
        test_stats(ctx)
        test_reset(ctx)
        test_bucket_region(ctx, tmp)

        print("-- shutdown")
        proxy.send_signal(signal.SIGTERM)
        try:
            rc = proxy.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        check("proxy exits cleanly (0) on SIGTERM", rc == 0, rc)
    finally:
        for p in (proxy, moto):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    elapsed = time.monotonic() - t_start
    check(f"finished in under 60 s ({elapsed:.1f} s)", elapsed < 60)
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
