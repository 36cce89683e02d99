#!/usr/bin/env python3
"""Self-test of faultproxy.py's latency model: moto and the proxy on free loopback ports, boto3
through the proxy, durations scaled so that each type takes 1-2 s.

    ironplan types --format json > types.json
    .venv/bin/python scripts/test_latency.py types.json     (from the repository root; about 20 s)

The durations come from the project (`ironplan types --format json`), as the benchmark gives
them to the proxy.

For each modeled type: right after the create, describe shows the intermediate state; once the
create's time is up, the final one. Right after the delete, describe shows it deleting; once the
delete's time is up, it is gone. Also: list-style describes, the control endpoint, the stats'
kinds and summary. Prints one line per check, then `N passed, M failed`; exits 1 if any failed.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
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

sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no scripts/__pycache__ in the clone
import faultproxy  # noqa: E402

if len(sys.argv) != 2:
    sys.exit("usage: test_latency.py TYPES_JSON   (the output of `ironplan types --format json`)")
TYPES_JSON = os.path.abspath(sys.argv[1])
faultproxy.load_durations(TYPES_JSON)

BUDGET = 55.0
T_START = time.monotonic()
PASSED = 0
FAILED = 0

# Seconds each type takes in this test (the factor is 1/60; the NAT gateway keeps the spec's
# 105 s / 60 s, i.e. 1.75 s / 1 s, to prove the default table is scaled).
FACTOR = "1/60"
CREATE = 1.5
DELETE = 1.5
SECS = CREATE * 60  # in spec seconds, before the factor
ECS_MODIFY = 1.0
NAT_CREATE, NAT_DELETE = 105 / 60, 60 / 60
SLACK = 0.35        # margin after a window ends before checking the final state


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
            if time.monotonic() - T_START > BUDGET:
                check(f"{title}: time budget", False, f"skipped: over the {BUDGET:.0f} s budget")
                return None
            try:
                return fn(*args)
            except Exception as e:  # noqa: BLE001 - a crashed section is a failed check
                check(f"{title}: no exception", False, f"{type(e).__name__}: {e}")
                traceback.print_exc()
                return None

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


def sleep_until(t: float) -> None:
    d = t - time.monotonic()
    if d > 0:
        time.sleep(d)


def code_of(fn, *a, **kw) -> str | None:
    """The AWS error code of a call, or None if it succeeded."""
    try:
        fn(*a, **kw)
    except botocore.exceptions.ClientError as e:
        return e.response.get("Error", {}).get("Code")
    return None


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


# ---- the resources, one per modeled type -------------------------------------------------------
#
# Each entry: create() -> id, describe(id) -> the status seen (or "<Code>" for an error), the
# intermediate and final states after the create, the deleting state, delete(id), and what "gone"
# looks like.


def build_types(c, pre):
    ec2, rds, ec, efs, kin, ecs = c["ec2"], c["rds"], c["elasticache"], c["efs"], c["kinesis"], c["ecs"]

    def err_or(fn):
        def run(i):
            try:
                return fn(i)
            except botocore.exceptions.ClientError as e:
                return "<" + e.response.get("Error", {}).get("Code", "?") + ">"
        return run

    def ecs_state(i):
        s = ecs.describe_services(cluster=pre["cluster"], services=[i])["services"][0]
        d = s["deployments"][0] if s.get("deployments") else {}
        return f'{s["status"]} running={s["runningCount"]} {d.get("rolloutState")}'

    return [
        {
            "type": "ec2:NatGateway", "create_secs": NAT_CREATE, "delete_secs": NAT_DELETE,
            "create": lambda: ec2.create_nat_gateway(SubnetId=pre["subnet_a"], AllocationId=pre["eip"])["NatGateway"]["NatGatewayId"],
            "describe": err_or(lambda i: ec2.describe_nat_gateways(NatGatewayIds=[i])["NatGateways"][0]["State"]),
            "creating": "pending", "ready": "available", "deleting": "deleting", "gone": "deleted",
            "delete": lambda i: ec2.delete_nat_gateway(NatGatewayId=i),
        },
        {
            "type": "rds:DbCluster",
            "create": lambda: rds.create_db_cluster(DBClusterIdentifier="lat-cluster", Engine="aurora-postgresql",
                                                   MasterUsername="admin", ManageMasterUserPassword=True)["DBCluster"]["DBClusterIdentifier"],
            "describe": err_or(lambda i: rds.describe_db_clusters(DBClusterIdentifier=i)["DBClusters"][0]["Status"]),
            "creating": "creating", "ready": "available", "deleting": "deleting", "gone": "<DBClusterNotFoundFault>",
            # deleted after its instance (a deleting instance still counts as a member on AWS)
            "delete": lambda i: rds.delete_db_cluster(DBClusterIdentifier=i, SkipFinalSnapshot=True),
        },
        {
            "type": "rds:DbInstance",
            "create": lambda: rds.create_db_instance(DBInstanceIdentifier="lat-db-1", DBClusterIdentifier="lat-cluster",
                                                    Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")["DBInstance"]["DBInstanceIdentifier"],
            "describe": err_or(lambda i: rds.describe_db_instances(DBInstanceIdentifier=i)["DBInstances"][0]["DBInstanceStatus"]),
            "creating": "creating", "ready": "available", "deleting": "deleting", "gone": "<DBInstanceNotFound>",
            "delete": lambda i: rds.delete_db_instance(DBInstanceIdentifier=i, SkipFinalSnapshot=True),
        },
        {
            "type": "elasticache:ReplicationGroup",
            "create": lambda: ec.create_replication_group(ReplicationGroupId="lat-redis", ReplicationGroupDescription="latency test",
                                                         Engine="redis", CacheNodeType="cache.t3.micro")["ReplicationGroup"]["ReplicationGroupId"],
            "describe": err_or(lambda i: ec.describe_replication_groups(ReplicationGroupId=i)["ReplicationGroups"][0]["Status"]),
            "creating": "creating", "ready": "available", "deleting": "deleting", "gone": "<ReplicationGroupNotFoundFault>",
            "delete": lambda i: ec.delete_replication_group(ReplicationGroupId=i),
        },
        {
            "type": "efs:FileSystem",
            "create": lambda: efs.create_file_system(CreationToken="lat-fs")["FileSystemId"],
            "describe": err_or(lambda i: efs.describe_file_systems(FileSystemId=i)["FileSystems"][0]["LifeCycleState"]),
            "creating": "creating", "ready": "available", "deleting": "deleting", "gone": "<FileSystemNotFound>",
            "delete": lambda i: efs.delete_file_system(FileSystemId=i),
        },
        {
            "type": "efs:MountTarget",
            "create": lambda: efs.create_mount_target(FileSystemId=pre["fs"](), SubnetId=pre["subnet_a"])["MountTargetId"],
            "describe": err_or(lambda i: efs.describe_mount_targets(MountTargetId=i)["MountTargets"][0]["LifeCycleState"]),
            "creating": "creating", "ready": "available", "deleting": "deleting", "gone": "<MountTargetNotFound>",
            "delete": lambda i: efs.delete_mount_target(MountTargetId=i),
        },
        {
            "type": "kinesis:Stream",
            "create": lambda: (kin.create_stream(StreamName="lat-stream", ShardCount=1), "lat-stream")[1],
            "describe": err_or(lambda i: kin.describe_stream_summary(StreamName=i)["StreamDescriptionSummary"]["StreamStatus"]),
            "creating": "CREATING", "ready": "ACTIVE", "deleting": "DELETING", "gone": "<ResourceNotFoundException>",
            "delete": lambda i: kin.delete_stream(StreamName=i),
        },
        {
            "type": "ecs:Service",
            "create": lambda: ecs.create_service(
                cluster=pre["cluster"], serviceName="lat-svc", taskDefinition=pre["taskdef"], desiredCount=2, launchType="FARGATE",
                networkConfiguration={"awsvpcConfiguration": {"subnets": [pre["subnet_a"]], "securityGroups": [pre["sg"]]}},
            )["service"]["serviceArn"],
            "describe": err_or(ecs_state),
            "creating": "ACTIVE running=0 IN_PROGRESS", "ready": "ACTIVE running=2 COMPLETED",
            "deleting": "DRAINING running=0 COMPLETED", "gone": "INACTIVE running=0 COMPLETED",
            "delete": lambda i: ecs.delete_service(cluster=pre["cluster"], service=i),
        },
    ]


# ---- the checks --------------------------------------------------------------------------------


@section("unit: operation kinds and factors")
def test_units():
    kinds = {op: faultproxy.op_kind(op) for op in (
        "CreateNatGateway", "DeleteDBCluster", "PutRetentionPolicy", "AddTagsToStream", "TagResource", "UntagResource",
        "ScheduleKeyDeletion", "IncreaseStreamRetentionPeriod", "AuthorizeSecurityGroupIngress",
        "DescribeNatGateways", "GetRole", "ListStreams", "DescribeStreamSummary", "Unknown", "Address")}
    want = {op: "mutating" for op in list(kinds)[:9]}
    want.update({"DescribeNatGateways": "read", "GetRole": "read", "ListStreams": "read", "DescribeStreamSummary": "read",
                 "Unknown": "unknown", "Address": "read"})
    check("op_kind: mutating, read, unknown", kinds == want, {k: v for k, v in kinds.items() if want[k] != v})
    check("parse_factor: 1/60, 0.5, '2'", (faultproxy.parse_factor("1/60"), faultproxy.parse_factor(0.5), faultproxy.parse_factor("2"))
          == (1 / 60, 0.5, 2.0))
    bad = []
    for v in ("x", "1/0", -1, True, None, 1000):
        try:
            faultproxy.parse_factor(v)
            bad.append(v)
        except ValueError:
            pass
    check("parse_factor refuses bad factors", bad == [], bad)
    for type_ in ("ec2:NatGateway", "rds:DbCluster", "rds:DbInstance", "elasticache:ReplicationGroup", "efs:FileSystem",
                  "efs:MountTarget", "kinesis:Stream", "ecs:Service"):
        check(f"{type_} is in the durations table and modeled",
              type_ in faultproxy.LATENCY_DURATIONS and type_ in faultproxy.LATENCY_MODELS)
    check("the spec's numbers", [faultproxy.LATENCY_DURATIONS[t]["create"] for t in ("ec2:NatGateway", "rds:DbInstance", "ecs:Service")]
          == [105, 540, 120])


@section("control endpoint: GET and POST /__faultproxy/latency")
def test_control(ctl):
    status, got = ctl.call("GET", "latency")
    check("GET latency: enabled with --latency 1/60", status == 200 and got["enabled"] and abs(got["factor"] - 1 / 60) < 1e-9, got)
    check("NAT gateway: spec 105 s / 60 s scaled to 1.75 s / 1 s",
          got["durations"]["ec2:NatGateway"][:2] == [105, 60] and got["effective_secs"]["ec2:NatGateway"]["create"] == 1.75
          and got["effective_secs"]["ec2:NatGateway"]["delete"] == 1.0, got)
    for body, why in (([1], "not an object"), ({"factor": "x"}, "bad factor"), ({"durations": {"ec2:Nope": {"create": 1}}}, "unknown type"),
                      ({"durations": {"rds:DbCluster": {"create": -1}}}, "negative"), ({"durations": {"rds:DbCluster": {"boot": 1}}}, "unknown phase"),
                      ({"fctor": 1}, "unknown key")):
        status, got = ctl.call("POST", "latency", body)
        check(f"POST latency refuses {why} (400)", status == 400 and "error" in got, (status, got))
    overrides = {t: {"create": SECS, "delete": DELETE * 60} for t in faultproxy.LATENCY_MODELS if t != "ec2:NatGateway"}
    overrides["ecs:Service"]["modify"] = ECS_MODIFY * 60
    status, got = ctl.call("POST", "latency", {"factor": FACTOR, "durations": overrides})
    check("POST latency sets factor and overrides",
          status == 200 and got["effective_secs"]["rds:DbInstance"]["create"] == CREATE and got["durations"]["rds:DbInstance"][0] == SECS
          and got["spec"]["rds:DbInstance"][:2] == [540, 720] and got["effective_secs"]["ec2:NatGateway"]["delete"] == NAT_DELETE,
          got)


@section("prerequisites (types that are not modeled are ready at once)")
def setup(c, pre):
    ec2, ecs = c["ec2"], c["ecs"]
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    check("a VPC is available at once", ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["State"] == "available")
    pre["subnet_a"] = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    pre["eip"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
    pre["sg"] = ec2.create_security_group(GroupName="lat-sg", Description="latency test", VpcId=vpc)["GroupId"]
    pre["cluster"] = ecs.create_cluster(clusterName="lat-cluster")["cluster"]["clusterName"]
    pre["taskdef"] = ecs.register_task_definition(
        family="lat", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}])["taskDefinition"]["taskDefinitionArn"]


@section("create: intermediate state at once, final state after the create's time")
def test_create(c, types, ctl):
    for t in types:
        t0 = time.monotonic()
        t["id"] = t["create"]()
        seen = t["describe"](t["id"])
        t["ready_at"] = t0 + t.get("create_secs", CREATE)
        late = time.monotonic() - t0
        check(f"{t['type']}: right after the create: {t['creating']}", seen == t["creating"], f"saw {seen!r} after {late:.2f} s")
    _, lat = ctl.call("GET", "latency")
    listed = {r["type"] for r in lat["resources"] if r["phase"] == "create" and r["remaining_secs"] > 0}
    check("GET latency lists the resources in their create window", listed == {t["type"] for t in types}, lat["resources"])
    # The list-style describes show the intermediate state too.
    check("rds: DescribeDBClusters (all) shows creating",
          [x["Status"] for x in c["rds"].describe_db_clusters()["DBClusters"] if x["DBClusterIdentifier"] == "lat-cluster"] == ["creating"])
    check("kinesis: ListStreams shows CREATING",
          [x["StreamStatus"] for x in c["kinesis"].list_streams()["StreamSummaries"] if x["StreamName"] == "lat-stream"] == ["CREATING"])
    check("efs: DescribeMountTargets by file system shows creating",
          [x["LifeCycleState"] for x in c["efs"].describe_mount_targets(FileSystemId=types[4]["id"])["MountTargets"]] == ["creating"])
    svc = c["ecs"].describe_services(cluster="lat-cluster", services=["lat-svc"])["services"][0]
    check("ecs: creating service: desired 2, running 0, pending 2",
          (svc["desiredCount"], svc["runningCount"], svc["pendingCount"]) == (2, 0, 2), svc)
    # Before the time is up: still the intermediate state (polled once more halfway).
    nat = types[0]
    sleep_until(nat["ready_at"] - 0.5)
    seen = nat["describe"](nat["id"])
    check("ec2:NatGateway: still pending before 105 s x 1/60", seen == "pending", seen)
    for t in types:
        sleep_until(t["ready_at"] + SLACK)
        seen = t["describe"](t["id"])
        check(f"{t['type']}: after {t.get('create_secs', CREATE):.2f} s: {t['ready']}", seen == t["ready"], f"saw {seen!r}")


@section("ECS UpdateService: the tasks of before keep running for the modify's time")
def test_ecs_modify(c, types):
    svc = types[-1]
    ecs = c["ecs"]
    t0 = time.monotonic()
    ecs.update_service(cluster="lat-cluster", service=svc["id"], desiredCount=0)
    s = ecs.describe_services(cluster="lat-cluster", services=[svc["id"]])["services"][0]
    check("right after scaling in to 0: running 2, IN_PROGRESS",
          (s["desiredCount"], s["runningCount"], s["deployments"][0]["rolloutState"]) == (0, 2, "IN_PROGRESS"),
          (s["desiredCount"], s["runningCount"], s["deployments"][0]["rolloutState"]))
    return t0 + ECS_MODIFY


@section("delete: deleting at once, gone after the delete's time")
def test_delete(c, types, ecs_modify_done):
    efs_ids = {"fs": types[4]["id"], "mt": types[5]["id"]}
    # Dependents first, as ironplan does: the instance before its cluster, mount target before file system.
    order = [types[i] for i in (0, 2, 3, 5, 6, 1, 4)]
    for t in order:
        t0 = time.monotonic()
        t["delete"](t["id"])
        seen = t["describe"](t["id"])
        t["gone_at"] = t0 + t.get("delete_secs", DELETE)
        check(f"{t['type']}: right after the delete: {t['deleting']}", seen == t["deleting"],
              f"saw {seen!r} after {time.monotonic() - t0:.2f} s")
    # List-style describes: moto dropped the item; the proxy splices it back.
    check("rds: DescribeDBClusters (all) lists the deleting cluster",
          [x["Status"] for x in c["rds"].describe_db_clusters()["DBClusters"] if x["DBClusterIdentifier"] == "lat-cluster"] == ["deleting"])
    check("rds: DescribeDBInstances (all) lists the deleting instance",
          [x["DBInstanceStatus"] for x in c["rds"].describe_db_instances()["DBInstances"] if x["DBInstanceIdentifier"] == "lat-db-1"] == ["deleting"])
    check("efs: DescribeMountTargets by file system lists the deleting mount target",
          [(x["MountTargetId"], x["LifeCycleState"]) for x in c["efs"].describe_mount_targets(FileSystemId=efs_ids["fs"])["MountTargets"]]
          == [(efs_ids["mt"], "deleting")])
    check("efs: DescribeFileSystems by creation token lists the deleting file system",
          [x["LifeCycleState"] for x in c["efs"].describe_file_systems(CreationToken="lat-fs")["FileSystems"]] == ["deleting"])
    streams = c["kinesis"].list_streams()
    check("kinesis: ListStreams lists the deleting stream",
          "lat-stream" in streams["StreamNames"]
          and [x["StreamStatus"] for x in streams["StreamSummaries"] if x["StreamName"] == "lat-stream"] == ["DELETING"], streams)
    check("kinesis: DescribeStream (by name) shows DELETING",
          c["kinesis"].describe_stream(StreamName="lat-stream")["StreamDescription"]["StreamStatus"] == "DELETING")
    # ECS: the scale-in's time, then the delete.
    svc = types[-1]
    sleep_until(ecs_modify_done + SLACK)
    s = c["ecs"].describe_services(cluster="lat-cluster", services=[svc["id"]])["services"][0]
    check("ecs: after the modify's time: running 0", s["runningCount"] == 0, s["runningCount"])
    t0 = time.monotonic()
    svc["delete"](svc["id"])
    seen = svc["describe"](svc["id"])
    svc["gone_at"] = t0 + DELETE
    check(f"{svc['type']}: right after the delete: {svc['deleting']}", seen == svc["deleting"], f"saw {seen!r}")
    for t in order + [svc]:
        sleep_until(t["gone_at"] + SLACK)
        seen = t["describe"](t["id"])
        check(f"{t['type']}: after {t.get('delete_secs', DELETE):.2f} s: {t['gone']}", seen == t["gone"], f"saw {seen!r}")
    check("elasticache: the gone group is not listed either",
          [g["ReplicationGroupId"] for g in c["elasticache"].describe_replication_groups()["ReplicationGroups"]
           if g["ReplicationGroupId"] == "lat-redis"] == [])
    check("rds: the gone cluster is not listed",
          [x for x in c["rds"].describe_db_clusters()["DBClusters"] if x["DBClusterIdentifier"] == "lat-cluster"] == [])
    check("kinesis: the gone stream is not listed", "lat-stream" not in c["kinesis"].list_streams()["StreamNames"])


@section("delete of a resource never described: the delete call itself takes the time")
def test_hold(c):
    kin = c["kinesis"]
    kin.create_stream(StreamName="lat-hold", ShardCount=1)  # no describe: nothing to show while deleting
    time.sleep(CREATE + 0.1)
    t0 = time.monotonic()
    kin.delete_stream(StreamName="lat-hold")
    took = time.monotonic() - t0
    check(f"DeleteStream answered after {DELETE} s", DELETE - 0.05 <= took < DELETE + 1.5, f"{took:.2f} s")
    check("and the stream is gone at once after", code_of(kin.describe_stream_summary, StreamName="lat-hold") == "ResourceNotFoundException")


@section("stats: kinds per operation, summary; log notes")
def test_stats(c, ctl):
    ctl.call("POST", "rules", [{"op": "DescribeVpcs", "throttle": True, "count": 1}])
    check("a throttled call", code_of(c["ec2"].describe_vpcs) == "RequestLimitExceeded")
    ctl.call("POST", "rules", [])
    _, stats = ctl.call("GET", "stats")
    kinds, summary, ops = stats["kinds"], stats["summary"], stats["operations"]
    check("kinds: creates and deletes are mutating",
          all(kinds.get(op) == "mutating" for op in ("CreateNatGateway", "DeleteNatGateway", "CreateDBCluster", "CreateStream",
                                                     "CreateService", "UpdateService", "RegisterTaskDefinition", "AllocateAddress")),
          {op: k for op, k in kinds.items() if k == "read" and not op.startswith(("Describe", "List", "Get"))})
    check("kinds: describes are reads",
          all(kinds.get(op) == "read" for op in ("DescribeNatGateways", "DescribeDBClusters", "DescribeStreamSummary",
                                                 "DescribeServices", "DescribeFileSystems", "ListStreams")), kinds)
    reads = sum(v["calls"] for op, v in ops.items() if kinds[op] == "read")
    muts = sum(v["calls"] for op, v in ops.items() if kinds[op] == "mutating")
    check("summary: mutating + read = total calls, throttled = 1",
          summary["mutating"] == muts and summary["read"] == reads and summary["mutating"] + summary["read"] + summary["unknown"] == stats["total"]["calls"]
          and summary["throttled"] == 1, (summary, muts, reads, stats["total"]))
    _, log = ctl.call("GET", "log")
    notes = {e["op"] for e in log if e.get("latency")}
    check("log: rewritten calls carry a latency note",
          {"CreateNatGateway", "DescribeNatGateways", "DescribeDBClusters", "DescribeStreamSummary", "DeleteStream"} <= notes, sorted(notes))
    check("log: entries carry their kind", all(e.get("kind") in ("mutating", "read", "unknown") for e in log))
    _, lat = ctl.call("GET", "latency")
    check("GET latency counts rewrites, splices, synthesized answers, hidden items, holds",
          all(lat["counts"][k] > 0 for k in ("rewritten", "spliced", "synthesized", "hidden", "held")), lat["counts"])


@section("the default for other Create*/Delete* calls, and factor 0 (off)")
def test_default_and_off(c, ctl):
    ec2 = c["ec2"]
    status, _ = ctl.call("POST", "latency", {"durations": {"default": {"create": 30}}})  # 30 s x 1/60 = 0.5 s
    t0 = time.monotonic()
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    took = time.monotonic() - t0
    check("default create 30 s x 1/60: CreateVpc answered after 0.5 s", status == 200 and 0.45 <= took < 1.5, f"{took:.2f} s")
    t0 = time.monotonic()
    ec2.describe_vpcs(VpcIds=[vpc])
    check("reads are not held", time.monotonic() - t0 < 0.4)
    status, got = ctl.call("POST", "latency", {"factor": 0})
    check("factor 0 turns the model off", status == 200 and got["enabled"] is False, got)
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.8.1.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=sub, AllocationId=eip)["NatGateway"]
    check("off: a new NAT gateway is available at once (moto's answer, unchanged)", nat["State"] == "available", nat["State"])


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="faultproxy-latency-")
    moto = proxy = None
    try:
        test_units()
        moto_port = free_port()
        moto_log = open(os.path.join(tmp, "moto.log"), "w")
        env = dict(os.environ, MOTO_ECS_SERVICE_RUNNING="2")
        moto = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(moto_port)], stdout=moto_log, stderr=subprocess.STDOUT, env=env)
        port_file = os.path.join(tmp, "proxy.port")
        proxy_err = open(os.path.join(tmp, "proxy.err"), "w")
        proxy = subprocess.Popen([sys.executable, PROXY, "--upstream", f"http://127.0.0.1:{moto_port}", "--port-file", port_file,
                                  "--seed", "1", "--latency", FACTOR, "--durations", TYPES_JSON], stdout=subprocess.DEVNULL, stderr=proxy_err)
        end = time.monotonic() + 10
        while not os.path.exists(port_file):
            if proxy.poll() is not None or time.monotonic() > end:
                check("proxy starts", False, open(proxy_err.name).read())
                return 1
            time.sleep(0.02)
        port = int(open(port_file).read().strip())
        if not wait_port(moto_port, 30):
            check("moto starts", False, open(moto_log.name).read()[-2000:])
            return 1
        url = f"http://127.0.0.1:{port}"
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=20)
        c = {svc: session.client(svc, endpoint_url=url, config=config)
             for svc in ("ec2", "rds", "elasticache", "efs", "kinesis", "ecs")}
        ctl = Control(port)

        test_control(ctl)
        pre: dict = {}
        setup(c, pre)
        types = build_types(c, pre)
        pre["fs"] = lambda: types[4]["id"]
        test_create(c, types, ctl)
        ecs_modify_done = test_ecs_modify(c, types) or time.monotonic()
        test_delete(c, types, ecs_modify_done)
        test_hold(c)
        test_stats(c, ctl)
        test_default_and_off(c, ctl)

        print("-- shutdown")
        proxy.send_signal(signal.SIGTERM)
        try:
            rc = proxy.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        check("proxy exits cleanly (0) on SIGTERM", rc == 0, rc)
        errors = [line for line in open(proxy_err.name).read().splitlines() if "latency model error" in line]
        check("no latency model errors on the proxy's stderr", errors == [], errors[:5])
    finally:
        for p in (proxy, moto):
            if p is not None and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
    elapsed = time.monotonic() - T_START
    check(f"finished in under 60 s ({elapsed:.1f} s)", elapsed < 60)
    print(f"{PASSED} passed, {FAILED} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
