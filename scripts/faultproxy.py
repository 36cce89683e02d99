#!/usr/bin/env python3
"""faultproxy: a fault-injecting HTTP proxy between an AWS SDK and a local AWS emulator (moto).

    faultproxy.py --listen 127.0.0.1:0 --upstream http://127.0.0.1:MOTOPORT \
                  [--port-file F] [--config rules.json] [--seed N] [--latency FACTOR]
                  [--s3-bucket-region BUCKET=REGION ...] [--verbose]

Every request is forwarded to the upstream unchanged (method, path, query, headers, body) and
the upstream's answer is returned unchanged, unless a fault rule matches the request's AWS
operation. Rules fail, throttle, 5xx, delay or reset calls; the error bodies are in the wire
format the SDK parses for that service's protocol. A control API lives on the same port under
/__faultproxy/ (rules, stats, log, reset). Only loopback addresses are accepted, and the only
address it ever connects to is the --upstream one. See FAULTPROXY.md.

With --latency FACTOR (or POST /__faultproxy/latency) it also models how long AWS takes to create
and delete the slow resource types (NAT gateways, Aurora, Redis, EFS, Kinesis, ECS services):
describe calls show the intermediate states (creating, pending, deleting, ...) for the spec's
typical durations times FACTOR, where moto makes everything ready and gone at once. The
durations table is LATENCY_DURATIONS.

Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import http.client
import http.server
import ipaddress
import json
import os
import random
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import uuid
import zlib

CONTROL_PREFIX = "/__faultproxy/"
LOG_LIMIT = 100_000
MAX_BODY = 256 * 1024 * 1024  # refuse request bodies larger than this (bytes)

# Connection-level headers: never forwarded in either direction. The message framing headers
# (Content-Length, Transfer-Encoding) are handled explicitly.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
}

# --------------------------------------------------------------------------------------------
# Identifying the service, the protocol and the operation of a request
# --------------------------------------------------------------------------------------------

# Aliases accepted in a rule's "service": the SDK crate names used in plans map to the SigV4
# signing names that appear in the Authorization header's credential scope.
SERVICE_ALIASES = {
    "efs": "elasticfilesystem",
    "cloudwatch": "monitoring",
    "applicationautoscaling": "application-autoscaling",
    "cloudwatchlogs": "logs",
    "secrets-manager": "secretsmanager",
}

# X-Amz-Target prefixes, used for the service only when a request is not signed.
TARGET_PREFIX_SERVICE = {
    "Kinesis_20131202": "kinesis",
    "AmazonEC2ContainerServiceV20141113": "ecs",
    "TrentService": "kms",
    "Logs_20140328": "logs",
    "AnyScaleFrontendService": "application-autoscaling",
    "secretsmanager": "secretsmanager",
    "DynamoDB_20120810": "dynamodb",
    "AmazonSQS": "sqs",
    "AWSEvents": "events",
    "AmazonSSM": "ssm",
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "AWSStepFunctions": "states",
    "GraniteServiceVersion20100801": "monitoring",
}

REST_XML_SERVICES = {"s3", "route53", "cloudfront"}

_SEG = r"[^/]+"


def _route(method: str, pattern: str, op: str):
    return (method, re.compile("^" + pattern.replace("{}", _SEG) + "$"), op)


def _crud(base: str, collection: str | None, item: str | None, *, create="POST", put=None):
    """Routes for a REST collection `base` and its items `base/{}`.

    collection: name used for GET base (e.g. "RestApis" -> GetRestApis); item: singular name
    (e.g. "RestApi" -> Create/Get/Update/Delete RestApi).
    """
    routes = []
    if item and create:
        routes.append(_route(create, base, "Create" + item))
    if collection:
        routes.append(_route("GET", base, "Get" + collection))
    if item:
        routes.append(_route("GET", base + "/{}", "Get" + item))
        routes.append(_route("PATCH", base + "/{}", "Update" + item))
        routes.append(_route("DELETE", base + "/{}", "Delete" + item))
        if put:
            routes.append(_route("PUT", base + "/{}", put))
    return routes


_API = "/restapis/{}"
_METHOD = _API + "/resources/{}/methods/{}"

# API Gateway (REST APIs, v1), most specific first.
APIGATEWAY_ROUTES = [
    # methods, method responses, integrations, integration responses
    _route("PUT", _METHOD + "/integration/responses/{}", "PutIntegrationResponse"),
    _route("GET", _METHOD + "/integration/responses/{}", "GetIntegrationResponse"),
    _route("PATCH", _METHOD + "/integration/responses/{}", "UpdateIntegrationResponse"),
    _route("DELETE", _METHOD + "/integration/responses/{}", "DeleteIntegrationResponse"),
    _route("PUT", _METHOD + "/integration", "PutIntegration"),
    _route("GET", _METHOD + "/integration", "GetIntegration"),
    _route("PATCH", _METHOD + "/integration", "UpdateIntegration"),
    _route("DELETE", _METHOD + "/integration", "DeleteIntegration"),
    _route("PUT", _METHOD + "/responses/{}", "PutMethodResponse"),
    _route("GET", _METHOD + "/responses/{}", "GetMethodResponse"),
    _route("PATCH", _METHOD + "/responses/{}", "UpdateMethodResponse"),
    _route("DELETE", _METHOD + "/responses/{}", "DeleteMethodResponse"),
    _route("PUT", _METHOD, "PutMethod"),
    _route("GET", _METHOD, "GetMethod"),
    _route("PATCH", _METHOD, "UpdateMethod"),
    _route("DELETE", _METHOD, "DeleteMethod"),
    _route("POST", _METHOD, "TestInvokeMethod"),
    # resources: POST /restapis/{id}/resources/{parent_id} creates a child of parent_id
    _route("POST", _API + "/resources/{}", "CreateResource"),
    _route("GET", _API + "/resources/{}", "GetResource"),
    _route("PATCH", _API + "/resources/{}", "UpdateResource"),
    _route("DELETE", _API + "/resources/{}", "DeleteResource"),
    _route("GET", _API + "/resources", "GetResources"),
    # stages, exports
    _route("GET", _API + "/stages/{}/exports/{}", "GetExport"),
    _route("DELETE", _API + "/stages/{}/cache/data", "FlushStageCache"),
    *_crud(_API + "/stages", "Stages", "Stage"),
    *_crud(_API + "/deployments", "Deployments", "Deployment"),
    *_crud(_API + "/authorizers", "Authorizers", "Authorizer"),
    *_crud(_API + "/models", "Models", "Model"),
    *_crud(_API + "/requestvalidators", "RequestValidators", "RequestValidator"),
    *_crud(_API + "/documentation/parts", "DocumentationParts", "DocumentationPart"),
    _route("PUT", _API + "/gatewayresponses/{}", "PutGatewayResponse"),
    _route("GET", _API + "/gatewayresponses/{}", "GetGatewayResponse"),
    _route("PATCH", _API + "/gatewayresponses/{}", "UpdateGatewayResponse"),
    _route("DELETE", _API + "/gatewayresponses/{}", "DeleteGatewayResponse"),
    _route("GET", _API + "/gatewayresponses", "GetGatewayResponses"),
    # documentation versions, model templates, SDKs, stage caches
    *_crud(_API + "/documentation/versions", "DocumentationVersions", "DocumentationVersion"),
    _route("PUT", _API + "/documentation/parts", "ImportDocumentationParts"),
    _route("GET", _API + "/models/{}/default_template", "GetModelTemplate"),
    _route("GET", _API + "/stages/{}/sdks/{}", "GetSdk"),
    _route("DELETE", _API + "/stages/{}/cache/authorizers", "FlushStageAuthorizersCache"),
    _route("POST", _API + "/authorizers/{}", "TestInvokeAuthorizer"),
    # the API itself (POST /restapis?mode=import is ImportRestApi, see _QUERY_OVERRIDES)
    *_crud("/restapis", "RestApis", "RestApi", put="PutRestApi"),
    # account
    _route("GET", "/account", "GetAccount"),
    _route("PATCH", "/account", "UpdateAccount"),
    # keys, usage plans, domain names, VPC links, certificates
    *_crud("/apikeys", "ApiKeys", "ApiKey"),
    _route("POST", "/usageplans/{}/keys", "CreateUsagePlanKey"),
    _route("GET", "/usageplans/{}/keys", "GetUsagePlanKeys"),
    _route("GET", "/usageplans/{}/keys/{}", "GetUsagePlanKey"),
    _route("DELETE", "/usageplans/{}/keys/{}", "DeleteUsagePlanKey"),
    _route("GET", "/usageplans/{}/usage", "GetUsage"),
    _route("PATCH", "/usageplans/{}/keys/{}/usage", "UpdateUsage"),
    *_crud("/usageplans", "UsagePlans", "UsagePlan"),
    _route("POST", "/domainnames/{}/basepathmappings", "CreateBasePathMapping"),
    _route("GET", "/domainnames/{}/basepathmappings", "GetBasePathMappings"),
    _route("GET", "/domainnames/{}/basepathmappings/{}", "GetBasePathMapping"),
    _route("PATCH", "/domainnames/{}/basepathmappings/{}", "UpdateBasePathMapping"),
    _route("DELETE", "/domainnames/{}/basepathmappings/{}", "DeleteBasePathMapping"),
    *_crud("/domainnames", "DomainNames", "DomainName"),
    *_crud("/vpclinks", "VpcLinks", "VpcLink"),
    *_crud("/clientcertificates", "ClientCertificates", "ClientCertificate", create=None),
    _route("POST", "/clientcertificates", "GenerateClientCertificate"),
    _route("GET", "/sdktypes", "GetSdkTypes"),
    _route("GET", "/sdktypes/{}", "GetSdkType"),
    _route("POST", "/domainnameaccessassociations", "CreateDomainNameAccessAssociation"),
    _route("GET", "/domainnameaccessassociations", "GetDomainNameAccessAssociations"),
    _route("DELETE", "/domainnameaccessassociations/{}", "DeleteDomainNameAccessAssociation"),
    _route("POST", "/rejectdomainnameaccessassociations", "RejectDomainNameAccessAssociation"),
    _route("GET", "/tags/{}", "GetTags"),
    _route("PUT", "/tags/{}", "TagResource"),
    _route("DELETE", "/tags/{}", "UntagResource"),
]

_EFS = "/2015-02-01"
_FS = _EFS + "/file-systems/{}"

# Amazon EFS, most specific first.
EFS_ROUTES = [
    _route("GET", _EFS + "/file-systems/replication-configurations", "DescribeReplicationConfigurations"),
    _route("PUT", _FS + "/lifecycle-configuration", "PutLifecycleConfiguration"),
    _route("GET", _FS + "/lifecycle-configuration", "DescribeLifecycleConfiguration"),
    _route("PUT", _FS + "/policy", "PutFileSystemPolicy"),
    _route("GET", _FS + "/policy", "DescribeFileSystemPolicy"),
    _route("DELETE", _FS + "/policy", "DeleteFileSystemPolicy"),
    _route("PUT", _FS + "/backup-policy", "PutBackupPolicy"),
    _route("GET", _FS + "/backup-policy", "DescribeBackupPolicy"),
    _route("POST", _FS + "/replication-configuration", "CreateReplicationConfiguration"),
    _route("DELETE", _FS + "/replication-configuration", "DeleteReplicationConfiguration"),
    _route("PUT", _FS + "/protection", "UpdateFileSystemProtection"),
    _route("POST", _EFS + "/file-systems", "CreateFileSystem"),
    _route("GET", _EFS + "/file-systems", "DescribeFileSystems"),
    _route("GET", _FS, "DescribeFileSystems"),
    _route("PUT", _FS, "UpdateFileSystem"),
    _route("DELETE", _FS, "DeleteFileSystem"),
    _route("GET", _EFS + "/mount-targets/{}/security-groups", "DescribeMountTargetSecurityGroups"),
    _route("PUT", _EFS + "/mount-targets/{}/security-groups", "ModifyMountTargetSecurityGroups"),
    _route("POST", _EFS + "/mount-targets", "CreateMountTarget"),
    _route("GET", _EFS + "/mount-targets", "DescribeMountTargets"),
    _route("GET", _EFS + "/mount-targets/{}", "DescribeMountTargets"),
    _route("DELETE", _EFS + "/mount-targets/{}", "DeleteMountTarget"),
    _route("POST", _EFS + "/access-points", "CreateAccessPoint"),
    _route("GET", _EFS + "/access-points", "DescribeAccessPoints"),
    _route("GET", _EFS + "/access-points/{}", "DescribeAccessPoints"),
    _route("DELETE", _EFS + "/access-points/{}", "DeleteAccessPoint"),
    _route("POST", _EFS + "/resource-tags/{}", "TagResource"),
    _route("DELETE", _EFS + "/resource-tags/{}", "UntagResource"),
    _route("GET", _EFS + "/resource-tags/{}", "ListTagsForResource"),
    _route("POST", _EFS + "/create-tags/{}", "CreateTags"),
    _route("POST", _EFS + "/delete-tags/{}", "DeleteTags"),
    _route("GET", _EFS + "/tags/{}", "DescribeTags"),
    _route("GET", _EFS + "/account-preferences", "DescribeAccountPreferences"),
    _route("PUT", _EFS + "/account-preferences", "PutAccountPreferences"),
]

# S3, path-style (what the SDK sends to a loopback endpoint): objects, then buckets. Bucket
# sub-resources (?versioning, ?tagging...) are not told apart: they match by method only.
S3_ROUTES = [
    _route("PUT", "/{}/.+", "PutObject"),
    _route("GET", "/{}/.+", "GetObject"),
    _route("HEAD", "/{}/.+", "HeadObject"),
    _route("DELETE", "/{}/.+", "DeleteObject"),
    _route("HEAD", "/{}", "HeadBucket"),
    _route("PUT", "/{}", "CreateBucket"),
    _route("DELETE", "/{}", "DeleteBucket"),
    _route("GET", "/{}", "ListObjects"),
]

REST_ROUTES = {"apigateway": APIGATEWAY_ROUTES, "elasticfilesystem": EFS_ROUTES, "s3": S3_ROUTES}

# (service, method, path) whose operation depends on the query string: {query value: op}.
_QUERY_OVERRIDES = {
    ("apigateway", "POST", "/restapis"): ("mode", {"import": "ImportRestApi"}),
    ("apigateway", "POST", "/apikeys"): ("mode", {"import": "ImportApiKeys"}),
}

_SCOPE_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_CBOR_PATH_RE = re.compile(r"^/service/([^/]+)/operation/([^/?]+)$")


def normalize_service(name: str | None) -> str | None:
    if name is None:
        return None
    name = name.strip().lower()
    return SERVICE_ALIASES.get(name, name)


def _header(headers, name: str) -> str | None:
    """Case-insensitive lookup in a list of (name, value) pairs or a mapping with .get()."""
    if hasattr(headers, "get") and not isinstance(headers, list):
        return headers.get(name)
    lname = name.lower()
    for k, v in headers:
        if k.lower() == lname:
            return v
    return None


def _service_from_path(path: str) -> str | None:
    if path == "/account" or path.startswith(("/restapis", "/apikeys", "/usageplans", "/domainnames", "/vpclinks",
                                              "/clientcertificates", "/sdktypes", "/domainnameaccessassociations",
                                              "/rejectdomainnameaccessassociations")):
        return "apigateway"
    if path.startswith(_EFS + "/"):
        return "elasticfilesystem"
    return None


def _form_action(body: bytes, content_type: str | None, content_encoding: str | None) -> str | None:
    if not body:
        return None
    if content_encoding and "gzip" in content_encoding.lower():
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            return None
    ct = (content_type or "").lower()
    if "x-www-form-urlencoded" not in ct and not body.startswith(b"Action="):
        return None
    try:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    except ValueError:
        return None
    values = form.get("Action")
    return values[0] if values else None


def identify(method: str, target: str, headers, body: bytes = b"") -> dict:
    """Returns {"op", "service", "protocol"} for a request.

    protocol is one of awsJson, awsQuery, ec2Query, restJson, restXml, rpcv2Cbor.
    """
    parsed = urllib.parse.urlsplit(target)
    path = parsed.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)

    service = None
    auth = _header(headers, "Authorization") or ""
    m = _SCOPE_RE.search(auth)
    if m:
        service = m.group(2)
    elif "X-Amz-Credential" in query:
        parts = query["X-Amz-Credential"][0].split("/")
        if len(parts) >= 5:
            service = parts[3]

    op = None
    protocol = None
    amz_target = _header(headers, "X-Amz-Target")
    smithy_protocol = (_header(headers, "smithy-protocol") or "").lower()
    cbor = _CBOR_PATH_RE.match(path)
    if smithy_protocol == "rpc-v2-cbor" and cbor:
        protocol = "rpcv2Cbor"
        op = urllib.parse.unquote(cbor.group(2))
        if service is None:
            service = TARGET_PREFIX_SERVICE.get(urllib.parse.unquote(cbor.group(1)))
    elif amz_target:
        protocol = "awsJson"
        prefix, _, op = amz_target.rpartition(".")
        if not op:
            op = None
        if service is None:
            service = TARGET_PREFIX_SERVICE.get(prefix)
    else:
        action = _form_action(body, _header(headers, "Content-Type"), _header(headers, "Content-Encoding"))
        if action is None and "Action" in query:
            action = query["Action"][0]
        if action:
            op = action
            protocol = "ec2Query" if service == "ec2" else "awsQuery"
        else:
            if service is None:
                service = _service_from_path(path)
            protocol = "restXml" if service in REST_XML_SERVICES else "restJson"
            routes = REST_ROUTES.get(service or "", [])
            for route_method, pattern, route_op in routes:
                if route_method == method and pattern.match(path):
                    op = route_op
                    break
            override = _QUERY_OVERRIDES.get((service, method, path))
            if override and query.get(override[0], [""])[0] in override[1]:
                op = override[1][query[override[0]][0]]
    return {"op": op or "Unknown", "service": service or "unknown", "protocol": protocol}


# --------------------------------------------------------------------------------------------
# Error responses in each protocol's wire format
# --------------------------------------------------------------------------------------------


def _xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([(major << 5) | n])
    if n < 0x100:
        return bytes([(major << 5) | 24, n])
    if n < 0x10000:
        return bytes([(major << 5) | 25]) + struct.pack(">H", n)
    if n < 0x100000000:
        return bytes([(major << 5) | 26]) + struct.pack(">I", n)
    return bytes([(major << 5) | 27]) + struct.pack(">Q", n)


def _cbor_text_map(d: dict[str, str]) -> bytes:
    out = bytearray(_cbor_head(5, len(d)))
    for k, v in d.items():
        for s in (k, v):
            b = s.encode("utf-8")
            out += _cbor_head(3, len(b)) + b
    return bytes(out)


def error_response(protocol: str | None, service: str, status: int, code: str, message: str, req_headers) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of an AWS error `code` as the SDK expects it for `protocol`."""
    request_id = str(uuid.uuid4())
    fault_type = "Sender" if status < 500 else "Receiver"
    headers: list[tuple[str, str]] = []
    query_compatible = (_header(req_headers, "x-amzn-query-mode") or "").lower() == "true"
    if protocol == "awsJson":
        ct = _header(req_headers, "Content-Type") or ""
        if not ct.startswith("application/x-amz-json"):
            ct = "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message}).encode()
        headers += [("Content-Type", ct), ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", code)]
        if query_compatible:
            headers.append(("x-amzn-query-error", f"{code};{fault_type}"))
    elif protocol == "rpcv2Cbor":
        body = _cbor_text_map({"__type": code, "message": message})
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor"), ("x-amzn-RequestId", request_id)]
        if query_compatible:
            headers.append(("x-amzn-query-error", f"{code};{fault_type}"))
    elif protocol == "ec2Query":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{_xml_escape(code)}</Code><Message>{_xml_escape(message)}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        ).encode()
        headers += [("Content-Type", "text/xml;charset=UTF-8")]
    elif protocol == "awsQuery" or (protocol == "restXml" and service != "s3"):
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>{fault_type}</Type><Code>{_xml_escape(code)}</Code>"
            f"<Message>{_xml_escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers += [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    elif protocol == "restXml":  # S3
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{_xml_escape(code)}</Code><Message>{_xml_escape(message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers += [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    else:  # restJson (API Gateway, EFS, ...), and anything unknown
        body = json.dumps({"message": message}).encode()
        headers += [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", code)]
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


def throttle_code(protocol: str | None, service: str | None = None) -> str:
    if service == "s3":
        return "SlowDown"  # what S3 itself answers, with a 503
    if protocol == "ec2Query":
        return "RequestLimitExceeded"  # what EC2 itself answers
    if protocol == "awsQuery":
        return "Throttling"
    return "ThrottlingException"


# --------------------------------------------------------------------------------------------
# S3 buckets in another region (moto serves every region from one server and never redirects)
# --------------------------------------------------------------------------------------------

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
REDIRECT_STATUSES = (301, 400)


def signing_region(target: str, headers) -> str | None:
    """The region of the request's SigV4 credential scope (header or presigned query), or None."""
    m = _SCOPE_RE.search(_header(headers, "Authorization") or "")
    if m:
        return m.group(1)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    parts = query.get("X-Amz-Credential", [""])[0].split("/")
    return parts[2] if len(parts) >= 5 else None


def s3_bucket_and_key(target: str, headers, buckets) -> tuple[str | None, str]:
    """(bucket, key) of an S3 request: virtual-hosted (`Host: BUCKET.…`, for one of `buckets`)
    or path-style (`/BUCKET/KEY`). The key is "" for a bucket-level call."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(target).path or "/")
    host = (_header(headers, "Host") or "").strip().lower()
    host = host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    hosted = [b for b in buckets if host == b or host.startswith(b + ".")]
    if hosted:
        return max(hosted, key=len), path.lstrip("/")
    segments = path.lstrip("/").split("/", 1)
    if not segments[0]:
        return None, ""
    return segments[0], segments[1] if len(segments) > 1 else ""


def parse_bucket_regions(payload) -> dict[str, dict]:
    """{BUCKET: {"region", "status"}} from `{BUCKET: REGION}` or `{BUCKET: {"region", "status"}}`
    (also wrapped as `{"buckets": {...}}`); ValueError says what is wrong."""
    if isinstance(payload, dict) and set(payload) == {"buckets"}:
        payload = payload["buckets"]
    if not isinstance(payload, dict):
        raise ValueError('the body is {"BUCKET": "REGION", ...} or {"buckets": {...}}')
    out = {}
    for bucket, spec in payload.items():
        if not isinstance(bucket, str) or not _BUCKET_RE.match(bucket):
            raise ValueError(f"{bucket!r} is not an S3 bucket name")
        if isinstance(spec, str):
            spec = {"region": spec}
        if not isinstance(spec, dict) or set(spec) - {"region", "status"}:
            raise ValueError(f"{bucket}: a region, or {{\"region\": R, \"status\": 301|400}}")
        region, status = spec.get("region"), spec.get("status", 301)
        if not isinstance(region, str) or not _REGION_RE.match(region):
            raise ValueError(f"{bucket}: {region!r} is not a region name (e.g. eu-west-1)")
        if status not in REDIRECT_STATUSES or isinstance(status, bool):
            raise ValueError(f"{bucket}: status is 301 (PermanentRedirect) or 400 (AuthorizationHeaderMalformed)")
        out[bucket] = {"region": region, "status": status}
    return out


def parse_bucket_region_arg(value: str) -> tuple[str, dict]:
    bucket, sep, region = value.partition("=")
    if not sep:
        raise ValueError(f"--s3-bucket-region is BUCKET=REGION, got {value!r}")
    return bucket, parse_bucket_regions({bucket: region})[bucket]


def wrong_region_response(method: str, bucket: str, signed: str, spec: dict) -> tuple[int, list, bytes, str | None]:
    """What S3 answers a request for `bucket` signed for region `signed` when the bucket lives in
    `spec["region"]`: (status, headers, body, error code). A HEAD (HeadBucket, HeadObject) gets
    no body, only the status and `x-amz-bucket-region`; anything else an XML error: 301
    PermanentRedirect with the bucket's endpoint, or 400 AuthorizationHeaderMalformed with the
    expected `<Region>`."""
    region, status = spec["region"], spec["status"]
    request_id = uuid.uuid4().hex[:16].upper()
    headers = [("x-amz-bucket-region", region), ("x-amz-request-id", request_id), ("Content-Type", "application/xml")]
    if method == "HEAD":
        return status, headers + [("Content-Length", "0")], b"", None
    if status == 301:
        code = "PermanentRedirect"
        detail = (
            "<Message>The bucket you are attempting to access must be addressed using the specified endpoint. "
            "Please send all future requests to this endpoint.</Message>"
            f"<Endpoint>{_xml_escape(bucket)}.s3.{region}.amazonaws.com</Endpoint><Bucket>{_xml_escape(bucket)}</Bucket>"
        )
    else:
        code = "AuthorizationHeaderMalformed"
        detail = (
            f"<Message>The authorization header is malformed; the region '{_xml_escape(signed)}' is wrong; "
            f"expecting '{region}'</Message><Region>{region}</Region>"
        )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>{detail}'
        f"<RequestId>{request_id}</RequestId></Error>"
    ).encode()
    return status, headers + [("Content-Length", str(len(body)))], body, code


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------

FAULT_KINDS = ("fail", "throttle", "server_error", "reset")
RULE_KEYS = {"op", "service", "count", "after", "rate", "limit", "delay_ms", "delay_after_ms", "comment", *FAULT_KINDS}


class RuleError(ValueError):
    pass


class Rule:
    def __init__(self, spec: dict, index: int):
        where = f"rule {index}"
        if not isinstance(spec, dict):
            raise RuleError(f"{where}: a rule is a JSON object, got {type(spec).__name__}")
        unknown = set(spec) - RULE_KEYS
        if unknown:
            raise RuleError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
        self.spec = spec
        op = spec.get("op", "*")
        if isinstance(op, str):
            self.ops = [op]
        elif isinstance(op, list) and op and all(isinstance(o, str) for o in op):
            self.ops = op
        else:
            raise RuleError(f'{where}: "op" is an operation name, "*", or a list of names')
        svc = spec.get("service")
        if svc is not None and not isinstance(svc, str):
            raise RuleError(f'{where}: "service" is a string (the SigV4 signing name, e.g. "ec2")')
        self.service = normalize_service(svc) if svc not in (None, "*") else None

        count = spec.get("count", -1)
        if not isinstance(count, int) or isinstance(count, bool) or count < -1:
            raise RuleError(f'{where}: "count" is an integer >= 0, or -1 (unlimited)')
        self.remaining = count
        # A token bucket like AWS's request limits: the rule applies only to calls beyond it
        # (`{"throttle": true, "limit": {"rate": 5, "burst": 50}}` throttles what exceeds 5/s).
        limit = spec.get("limit")
        self.limit = None
        if limit is not None:
            ok = isinstance(limit, dict) and set(limit) <= {"rate", "burst"} and all(
                isinstance(limit.get(k), (int, float)) and not isinstance(limit.get(k), bool) and limit.get(k) > 0
                for k in ("rate", "burst"))
            if not ok:
                raise RuleError(f'{where}: "limit" is {{"rate": tokens per second, "burst": bucket size}}, both > 0')
            self.limit = (float(limit["rate"]), float(limit["burst"]))
            self.tokens = float(limit["burst"])
            self.last = time.monotonic()
        # Let the first `after` matching calls through untouched (fail the k-th CreateSubnet).
        after_n = spec.get("after", 0)
        if not isinstance(after_n, int) or isinstance(after_n, bool) or after_n < 0:
            raise RuleError(f'{where}: "after" is an integer >= 0 (matching calls to let through first)')
        self.skip = after_n
        rate = spec.get("rate", 1.0)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
            raise RuleError(f'{where}: "rate" is a number between 0 and 1')
        self.rate = float(rate)
        delay = spec.get("delay_ms", 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or delay < 0 or delay > 600_000:
            raise RuleError(f'{where}: "delay_ms" is a number of milliseconds between 0 and 600000')
        self.delay_ms = float(delay)
        # Forward the call, then hold the answer: the call took effect upstream, but the
        # client has not heard so (a crash window: kill the client meanwhile).
        after = spec.get("delay_after_ms", 0)
        if isinstance(after, bool) or not isinstance(after, (int, float)) or after < 0 or after > 600_000:
            raise RuleError(f'{where}: "delay_after_ms" is a number of milliseconds between 0 and 600000')
        self.delay_after_ms = float(after)

        kinds = [k for k in FAULT_KINDS if k in spec and spec[k] not in (None, False)]
        if len(kinds) > 1:
            raise RuleError(f"{where}: at most one of {list(FAULT_KINDS)} per rule, got {kinds}")
        if not kinds and not self.delay_ms and not self.delay_after_ms:
            raise RuleError(f'{where}: give one of {list(FAULT_KINDS)}, "delay_ms" or "delay_after_ms"')
        self.kind = kinds[0] if kinds else "delay"
        self.status = None
        self.code = None
        self.message = None
        value = spec.get(self.kind) if self.kind != "delay" else None
        if self.kind == "fail":
            if not isinstance(value, dict) or "code" not in value:
                raise RuleError(f'{where}: "fail" is an object {{"status", "code", "message"}} with at least "code"')
            self._error_fields(value, where, default_status=400)
        elif self.kind == "throttle":
            if value is True:
                value = {}
            if not isinstance(value, dict):
                raise RuleError(f'{where}: "throttle" is true or an object {{"status", "code", "message"}}')
            self._error_fields(value, where, default_status=400)
        elif self.kind == "server_error":
            if value is True:
                value = {}
            elif isinstance(value, int) and not isinstance(value, bool):
                value = {"status": value}
            if not isinstance(value, dict):
                raise RuleError(f'{where}: "server_error" is true, a status (500/503), or an object {{"status", "code", "message"}}')
            self._error_fields(value, where, default_status=500)
            if self.status < 500:
                raise RuleError(f'{where}: "server_error" status must be 5xx')
        elif self.kind == "reset":
            if value is not True:
                raise RuleError(f'{where}: "reset" is true')
        self.injected = 0
        self.index = index

    def _error_fields(self, value: dict, where: str, default_status: int) -> None:
        unknown = set(value) - {"status", "code", "message"}
        if unknown:
            raise RuleError(f"{where}: unknown key(s) {sorted(unknown)} in {self.kind}")
        status = value.get("status", default_status)
        if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
            raise RuleError(f'{where}: "status" is an HTTP error status (400-599)')
        self.status = status
        code = value.get("code")
        if code is not None and (not isinstance(code, str) or not code):
            raise RuleError(f'{where}: "code" is a non-empty string')
        self.code = code
        message = value.get("message")
        if message is not None and not isinstance(message, str):
            raise RuleError(f'{where}: "message" is a string')
        self.message = message

    def matches(self, op: str, service: str) -> bool:
        if self.remaining == 0:
            return False
        if self.service is not None and self.service != service:
            return False
        return "*" in self.ops or op in self.ops

    def error_for(self, protocol: str | None, service: str | None = None) -> tuple[int, str, str]:
        """(status, code, message) of the error this rule injects for a protocol."""
        if self.kind == "throttle":
            code = self.code or throttle_code(protocol, service)
            return self.status, code, self.message or "Rate exceeded (injected by faultproxy)"
        if self.kind == "server_error":
            code = self.code or ("ServiceUnavailable" if self.status == 503 else "InternalFailure")
            default = "Service unavailable" if self.status == 503 else "Internal failure"
            return self.status, code, self.message or f"{default} (injected by faultproxy)"
        return self.status, self.code, self.message if self.message is not None else f"{self.code} (injected by faultproxy)"

    def describe(self) -> dict:
        d = dict(self.spec)
        d["remaining"] = self.remaining
        d["injected"] = self.injected
        return d


def parse_rules(data) -> list[Rule]:
    if isinstance(data, dict) and "rules" in data:
        data = data["rules"]
    if not isinstance(data, list):
        raise RuleError('rules are a JSON list of rule objects (or {"rules": [...]})')
    return [Rule(spec, i) for i, spec in enumerate(data)]


# --------------------------------------------------------------------------------------------
# Shared state: rules, RNG, stats, call log
# --------------------------------------------------------------------------------------------


def _new_counts() -> dict:
    return {"calls": 0, "forwarded": 0, "faults": {}}


class State:
    def __init__(self, seed: int | None):
        self.lock = threading.Lock()
        self.base_seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self._reset_locked(self.base_seed)

    def _reset_locked(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.rules: list[Rule] = []
        self.ops: dict[str, dict] = {}
        self.services: dict[str, dict[str, dict]] = {}
        self.total = _new_counts()
        self.summary = {"mutating": 0, "read": 0, "unknown": 0, "throttled": 0}
        self.log: collections.deque = collections.deque(maxlen=LOG_LIMIT)
        self.seq = 0

    def reset(self, seed: int | None = None) -> None:
        with self.lock:
            self._reset_locked(self.base_seed if seed is None else seed)

    def set_rules(self, rules: list[Rule]) -> None:
        with self.lock:
            self.rules = rules

    def choose(self, op: str, service: str) -> Rule | None:
        """The first rule that matches and whose rate draw succeeds; consumes one of its count."""
        with self.lock:
            for rule in self.rules:
                if not rule.matches(op, service):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                if rule.limit is not None:
                    rate, burst = rule.limit
                    now = time.monotonic()
                    rule.tokens = min(burst, rule.tokens + (now - rule.last) * rate)
                    rule.last = now
                    if rule.tokens >= 1.0:
                        rule.tokens -= 1.0
                        continue
                if rule.rate < 1.0 and self.rng.random() >= rule.rate:
                    continue
                if rule.remaining > 0:
                    rule.remaining -= 1
                rule.injected += 1
                return rule
            return None

    def record(self, entry: dict, forwarded: bool) -> None:
        op, service, fault = entry["op"], entry["service"], entry["fault"]
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
            per_service = self.services.setdefault(service, {})
            kind = entry.setdefault("kind", op_kind(op))
            self.summary[kind] = self.summary.get(kind, 0) + 1
            if fault == "throttle":
                self.summary["throttled"] += 1
            for counts in (self.ops.setdefault(op, _new_counts()), per_service.setdefault(op, _new_counts()), self.total):
                counts["calls"] += 1
                if forwarded:
                    counts["forwarded"] += 1
                if fault:
                    counts["faults"][fault] = counts["faults"].get(fault, 0) + 1

    def stats(self) -> dict:
        with self.lock:
            return json.loads(
                json.dumps(
                    {
                        "seed": self.seed,
                        "total": self.total,
                        "summary": self.summary,
                        "kinds": {op: op_kind(op) for op in self.ops},
                        "operations": self.ops,
                        "services": self.services,
                        "rules": [r.describe() for r in self.rules],
                    }
                )
            )

    def log_since(self, since: int) -> list[dict]:
        with self.lock:
            if since <= 0:
                return list(self.log)
            return [e for e in self.log if e["seq"] > since]


# --------------------------------------------------------------------------------------------
# Operation kinds: a poll (read) or a call that changes something (mutating)
# --------------------------------------------------------------------------------------------

# An operation is "mutating" when its name starts with one of these verbs (followed by the rest
# of the name in CamelCase), "read" otherwise (Describe*, Get*, List*, ...), and "unknown" when
# the proxy could not name it. The first line is the issue's list; the second adds verbs of the
# services ironplan uses that change something all the same (UntagResource, RemoveTagsFromResource,
# SetTopicAttributes, ImportRestApi, CancelKeyDeletion, DisableKey, FlushStageCache, ...).
MUTATING_VERBS = (
    "Create", "Delete", "Put", "Update", "Modify", "Register", "Deregister", "Attach", "Detach", "Associate",
    "Disassociate", "Allocate", "Release", "Authorize", "Revoke", "Schedule", "Enable", "Start", "Increase", "Add", "Tag",
    "Untag", "Remove", "Set", "Import", "Cancel", "Disable", "Stop", "Decrease", "Reboot", "Replace", "Reset",
    "Restore", "Terminate", "Rotate", "Flush", "Reject", "Accept", "Copy", "Run", "Merge", "Split", "Apply",
    "Change", "Retire", "Publish", "Promote", "Purge",
)
_MUTATING_RE = re.compile(r"^(?:%s)(?=[A-Z0-9]|$)" % "|".join(MUTATING_VERBS))


def op_kind(op: str) -> str:
    """"mutating", "read" or "unknown" (the proxy could not name the operation)."""
    if op == "Unknown":
        return "unknown"
    return "mutating" if _MUTATING_RE.match(op) else "read"


# --------------------------------------------------------------------------------------------
# Latency model: resources take time to create and delete, as on AWS
# --------------------------------------------------------------------------------------------

# How long each resource type takes on AWS, in seconds: the project's own typical durations
# (`create_secs` / `delete_secs` of each type), read at start-up from `--durations FILE`, the
# output of `ironplan types --format json`, so that there is no second copy to keep in step.
# `--latency FACTOR` scales them all (1/60: a 105 s NAT gateway takes 1.75 s). `modify` has no
# number in the project: 0 means a Modify*/Update* call of the type takes no time unless set
# through /__faultproxy/latency.
#
# Only the types of LATENCY_MODELS are modeled: for them the proxy rewrites moto's answers.
# Every other type is ready (and gone) at once, as moto makes it. "default" is what every other
# Create*/Delete* call costs: 0 (instant, as moto). Set to a few seconds, the proxy holds the
# answer of those calls that long (times the factor).
LATENCY_DURATIONS: dict = {"default": {"create": 0, "delete": 0}}


def load_durations(path: str) -> None:
    """Fills LATENCY_DURATIONS for the modeled types from `ironplan types --format json`."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        types = {t["name"]: t for t in doc["types"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path} is not the output of `ironplan types --format json`: {e}") from None
    missing = sorted(set(LATENCY_MODELS) - set(types))
    if missing:
        raise ValueError(f"{path} lacks the modeled type(s) {missing}")
    for name in LATENCY_MODELS:
        t = types[name]
        LATENCY_DURATIONS[name] = {"create": t["create_secs"], "delete": t["delete_secs"], "modify": 0}


_PHASES = ("create", "delete", "modify")


def parse_factor(value) -> float:
    """A scale factor: a number, or a fraction such as "1/60". 0 turns the latency model off."""
    if isinstance(value, bool):
        raise ValueError("factor is a number or a fraction such as \"1/60\"")
    try:
        if isinstance(value, (int, float)):
            f = float(value)
        elif isinstance(value, str) and "/" in value:
            num, den = value.split("/", 1)
            f = float(num) / float(den)
        elif isinstance(value, str):
            f = float(value)
        else:
            raise ValueError
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"factor is a number or a fraction such as \"1/60\", got {value!r}") from None
    if not 0.0 <= f <= 100.0:
        raise ValueError(f"factor is between 0 and 100, got {value!r}")
    return f


# ---- a small XML scanner that edits moto's answers in place ----------------------------------
#
# moto's awsQuery / ec2Query answers are edited as text: the status element of one item is
# replaced, an item is cut out or spliced in, and every other byte stays as moto wrote it.

_XML_TOKEN = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<![^>]*>|<(/?)([^\s/>!?]+)[^>]*?(/?)>", re.S)


class _XNode:
    __slots__ = ("tag", "start", "end", "inner_start", "inner_end", "children")

    def __init__(self, tag: str, start: int, inner_start: int):
        self.tag = tag
        self.start = start
        self.end = inner_start
        self.inner_start = inner_start
        self.inner_end = inner_start
        self.children: list[_XNode] = []

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def child(self, tag: str):
        for c in self.children:
            if c.tag == tag:
                return c
        return None


def _xml_tree(text: str) -> _XNode:
    root = _XNode("#document", 0, 0)
    root.end = root.inner_end = len(text)
    stack = [root]
    for m in _XML_TOKEN.finditer(text):
        if m.group(2) is None:
            continue
        tag = m.group(2).rpartition(":")[2]  # local name
        if m.group(1):  # a closing tag: close up to the matching open element
            for i in range(len(stack) - 1, 0, -1):
                if stack[i].tag == tag:
                    for node in stack[i:]:
                        node.inner_end = m.start()
                        node.end = m.end()
                    del stack[i:]
                    break
        else:
            node = _XNode(tag, m.start(), m.end())
            stack[-1].children.append(node)
            if not m.group(3):
                stack.append(node)
    return root


def _xml_unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").replace("&amp;", "&")


def _xml_leaf_text(text: str, node: _XNode) -> str:
    return _xml_unescape(text[node.inner_start:node.inner_end].strip())


def _xml_fields(text: str, node: _XNode) -> dict:
    """The item's direct children that hold text: {tag: text}."""
    return {c.tag: _xml_leaf_text(text, c) for c in node.children if not c.children}


def _apply_edits(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


# ---- request parameters ---------------------------------------------------------------------


def _request_params(protocol: str | None, target: str, headers, body: bytes) -> dict:
    """The call's parameters: {name: value} (form and query strings: the first value; JSON: the object)."""
    parsed = urllib.parse.urlsplit(target)
    params: dict = {}
    for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items():
        params[k] = v[0]
    if not body:
        return params
    if (_header(headers, "Content-Encoding") or "").lower().find("gzip") >= 0:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            return params
    if protocol in ("awsQuery", "ec2Query"):
        for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
            params[k] = v[0]
    elif protocol in ("awsJson", "restJson"):
        try:
            obj = json.loads(body)
        except ValueError:
            return params
        if isinstance(obj, dict):
            params.update(obj)
    return params


def _error_code(headers, body: bytes) -> str | None:
    """The AWS error code of an error answer, in any of the wire formats."""
    h = _header(headers, "x-amzn-ErrorType")
    if h:
        return h.split(":", 1)[0].rpartition("#")[2]
    text = body.decode("utf-8", "replace")
    m = re.search(r"<Code>([^<]+)</Code>", text)
    if m:
        return m.group(1).strip()
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if isinstance(obj, dict):
        code = obj.get("__type") or obj.get("code") or obj.get("Code")
        if isinstance(code, str):
            return code.rpartition("#")[2]
    return None


# ---- the models, one per type ---------------------------------------------------------------


class LatencyModel:
    """How one resource type's answers are rewritten. Subclasses fill in the class attributes.

    Each call of the type is a create, delete, modify or describe op. An *item* is the resource's
    description in an answer: an XML element (awsQuery / ec2Query) or a JSON object. `key` is the
    item's ID field; `status` the field that holds its state.
    """

    type = ""
    service = ""
    xml = False
    create_ops: tuple = ()
    delete_ops: tuple = ()
    modify_ops: tuple = ()
    describe_ops: tuple = ()       # the ops that describe it (by ID, or in a list)
    key = ""                       # the item's ID field
    status = ""                    # the item's status field
    states = {"create": "creating", "delete": "deleting", "modify": "modifying"}
    lower = False                  # IDs are case-insensitive (RDS, ElastiCache): kept in lower case
    # What moto does with a deleted resource: "drops" it (describe by ID: NotFound; lists: absent),
    # "keeps" it with a final status (NAT gateway `deleted`, ECS service INACTIVE), or keeps it
    # "forever" in the intermediate status (ElastiCache `deleting`).
    moto_after_delete = "drops"
    not_found_codes: tuple = ()    # the error codes of a describe by ID of a missing resource
    not_found_status = 404
    # A describe by the parent's ID that moto answers "parent not found" while the parent is
    # still deleting on AWS: (parent type, request parameter, error codes).
    parent: tuple | None = None
    # XML only
    item_tags: tuple = ()          # tags of the item elements (any depth, with a direct `key` child)
    containers: dict = {}          # describe op -> the list element items are spliced into
    xmlns = ""
    # JSON only
    paths: dict = {}               # op -> path of the items: "" (the root), "key" (one object), "key[]" (a list)

    def norm(self, ident):
        if not isinstance(ident, str) or not ident:
            return None
        return ident.lower() if self.lower else ident

    def request_id(self, op: str, params: dict, path: str) -> str | None:
        """The ID a create/delete/modify/describe call names, if it names one."""
        return self.norm(params.get(self.key))

    def by_id(self, op: str, params: dict, path: str) -> bool:
        """Whether a describe names one resource (so moto answers NotFound once it is gone)."""
        return self.request_id(op, params, path) is not None

    def wanted(self, op: str, params: dict, path: str):
        """For a describe answered 200: a predicate over an item's fields saying whether the call
        asked for it (so a deleting item moto dropped is spliced back), or None to splice nothing."""
        return None

    def mutate(self, item: dict, phase: str, rec: "_Resource") -> None:
        """Rewrite a JSON item in its intermediate state."""
        item[self.status] = self.states[phase]

    def label(self, phase: str) -> str:
        """The intermediate state shown for a phase (for the log)."""
        return self.states[phase]

    def convert(self, item: dict, path: str) -> dict:
        """A cached JSON item in the shape `path` holds (only Kinesis has several shapes)."""
        return item


class _NatGateway(LatencyModel):
    type, service, xml = "ec2:NatGateway", "ec2", True
    create_ops, delete_ops = ("CreateNatGateway",), ("DeleteNatGateway",)
    describe_ops = ("DescribeNatGateways",)
    key, status = "natGatewayId", "state"
    states = {"create": "pending", "delete": "deleting", "modify": "pending"}
    moto_after_delete = "keeps"  # listed as `deleted`, as AWS does for about an hour
    item_tags = ("natGateway", "item")

    def request_id(self, op, params, path):
        return self.norm(params.get("NatGatewayId") or params.get("NatGatewayId.1"))


class _RdsModel(LatencyModel):
    service, xml = "rds", True
    lower = True
    xmlns = "http://rds.amazonaws.com/doc/2014-10-31/"
    param = ""
    filter_name = ""

    def request_id(self, op, params, path):
        return self.norm(params.get(self.param))

    def wanted(self, op, params, path):
        if params.get("Marker") or any(k.startswith("Filters.") for k in params):
            return None  # a later page, or filters: not evaluated here
        ident = self.request_id(op, params, path)
        if ident is None:
            return lambda f: True
        return lambda f: self.norm(f.get(self.key)) == ident


class _DbCluster(_RdsModel):
    type = "rds:DbCluster"
    create_ops, delete_ops, modify_ops = ("CreateDBCluster",), ("DeleteDBCluster",), ("ModifyDBCluster",)
    describe_ops = ("DescribeDBClusters",)
    key = param = "DBClusterIdentifier"
    status = "Status"
    not_found_codes = ("DBClusterNotFoundFault",)
    item_tags = ("DBCluster",)
    containers = {"DescribeDBClusters": "DBClusters"}


class _DbInstance(_RdsModel):
    type = "rds:DbInstance"
    create_ops, delete_ops, modify_ops = ("CreateDBInstance",), ("DeleteDBInstance",), ("ModifyDBInstance",)
    describe_ops = ("DescribeDBInstances",)
    key = param = "DBInstanceIdentifier"
    status = "DBInstanceStatus"
    not_found_codes = ("DBInstanceNotFound", "DBInstanceNotFoundFault")
    item_tags = ("DBInstance",)
    containers = {"DescribeDBInstances": "DBInstances"}


class _ReplicationGroup(LatencyModel):
    type, service, xml = "elasticache:ReplicationGroup", "elasticache", True
    create_ops, delete_ops = ("CreateReplicationGroup",), ("DeleteReplicationGroup",)
    modify_ops = ("ModifyReplicationGroup",)
    describe_ops = ("DescribeReplicationGroups",)
    key, status = "ReplicationGroupId", "Status"
    lower = True
    moto_after_delete = "forever"  # moto keeps the group `deleting`; AWS then forgets it
    not_found_codes = ("ReplicationGroupNotFoundFault",)
    item_tags = ("ReplicationGroup",)
    xmlns = "http://elasticache.amazonaws.com/doc/2015-02-02/"


class _EfsModel(LatencyModel):
    service = "elasticfilesystem"
    segment = ""   # "file-systems" or "mount-targets"
    list_key = ""

    def request_id(self, op, params, path):
        parts = path.rstrip("/").split("/")
        if len(parts) >= 4 and parts[2] == self.segment:
            return self.norm(urllib.parse.unquote(parts[3]))
        return self.norm(params.get(self.key))

    def by_id(self, op, params, path):
        return self.request_id(op, params, path) is not None


class _FileSystem(_EfsModel):
    type = "efs:FileSystem"
    create_ops, delete_ops, modify_ops = ("CreateFileSystem",), ("DeleteFileSystem",), ("UpdateFileSystem",)
    describe_ops = ("DescribeFileSystems",)
    key, status = "FileSystemId", "LifeCycleState"
    states = {"create": "creating", "delete": "deleting", "modify": "updating"}
    not_found_codes = ("FileSystemNotFound",)
    segment = "file-systems"
    paths = {"CreateFileSystem": "", "UpdateFileSystem": "", "DescribeFileSystems": "FileSystems[]"}

    def wanted(self, op, params, path):
        if params.get("Marker"):
            return None
        ident = self.request_id(op, params, path)
        token = params.get("CreationToken")
        return lambda f: (ident is None or f.get("FileSystemId") == ident) and (token is None or f.get("CreationToken") == token)


class _MountTarget(_EfsModel):
    type = "efs:MountTarget"
    create_ops, delete_ops = ("CreateMountTarget",), ("DeleteMountTarget",)
    describe_ops = ("DescribeMountTargets",)
    key, status = "MountTargetId", "LifeCycleState"
    not_found_codes = ("MountTargetNotFound",)
    parent = ("efs:FileSystem", "FileSystemId", ("FileSystemNotFound",))
    segment = "mount-targets"
    paths = {"CreateMountTarget": "", "DescribeMountTargets": "MountTargets[]"}

    def wanted(self, op, params, path):
        if params.get("Marker") or params.get("AccessPointId"):
            return None
        ident = self.request_id(op, params, path)
        fs = params.get("FileSystemId")
        return lambda f: (ident is None or f.get("MountTargetId") == ident) and (fs is None or f.get("FileSystemId") == fs)


class _Stream(LatencyModel):
    type, service = "kinesis:Stream", "kinesis"
    create_ops, delete_ops = ("CreateStream",), ("DeleteStream",)
    modify_ops = ("UpdateShardCount", "UpdateStreamMode", "StartStreamEncryption", "StopStreamEncryption")
    describe_ops = ("DescribeStreamSummary", "DescribeStream", "ListStreams")
    key, status = "StreamName", "StreamStatus"
    states = {"create": "CREATING", "delete": "DELETING", "modify": "UPDATING"}
    not_found_codes = ("ResourceNotFoundException",)
    not_found_status = 400
    paths = {"DescribeStreamSummary": "StreamDescriptionSummary", "DescribeStream": "StreamDescription",
             "ListStreams": "StreamSummaries[]"}

    def request_id(self, op, params, path):
        name = params.get("StreamName")
        if not name and isinstance(params.get("StreamARN"), str):
            name = params["StreamARN"].rpartition(":stream/")[2]
        return self.norm(name)

    def by_id(self, op, params, path):
        return op != "ListStreams" and self.request_id(op, params, path) is not None

    def wanted(self, op, params, path):
        if op != "ListStreams" or params.get("NextToken") or params.get("ExclusiveStartStreamName"):
            return None
        return lambda f: True

    def convert(self, item, path):
        if path == "StreamSummaries[]":
            keep = ("StreamName", "StreamARN", "StreamStatus", "StreamModeDetails", "StreamCreationTimestamp")
            return {k: item[k] for k in keep if k in item}
        if path == "StreamDescription" and "Shards" not in item:
            out = {k: v for k, v in item.items() if k not in ("OpenShardCount", "ConsumerCount")}
            out.update(Shards=[], HasMoreShards=False)
            return out
        return item


class _EcsService(LatencyModel):
    type, service = "ecs:Service", "ecs"
    create_ops, delete_ops, modify_ops = ("CreateService",), ("DeleteService",), ("UpdateService",)
    describe_ops = ("DescribeServices",)
    key, status = "serviceArn", "status"
    moto_after_delete = "keeps"  # INACTIVE, as AWS shows it for a while
    paths = {"CreateService": "service", "DeleteService": "service", "UpdateService": "service",
             "DescribeServices": "services[]"}

    def request_id(self, op, params, path):
        svc = params.get("service")
        return svc if isinstance(svc, str) and svc.startswith("arn:") else None

    def by_id(self, op, params, path):
        return False

    def label(self, phase):
        return {"create": "tasks starting", "delete": "DRAINING", "modify": "tasks updating"}[phase]

    def mutate(self, item, phase, rec):
        if phase == "delete":
            item["status"] = "DRAINING"
            return
        # Creating: no task has started yet. Modifying (UpdateService): the tasks of before are
        # still the ones running (scaling in: not stopped yet; scaling out: not started yet).
        desired = item.get("desiredCount", 0)
        running = 0 if phase == "create" else (rec.prev_running if rec.prev_running is not None else item.get("runningCount", 0))
        item["runningCount"] = running
        item["pendingCount"] = max(desired - running, 0)
        for d in item.get("deployments") or []:
            if isinstance(d, dict):
                d["rolloutState"] = "IN_PROGRESS"
                d["rolloutStateReason"] = f"ECS deployment {d.get('id', '')} in progress."
                d["runningCount"] = running
                d["pendingCount"] = max(d.get("desiredCount", desired) - running, 0)


LATENCY_MODELS = {m.type: m for m in (_NatGateway(), _DbCluster(), _DbInstance(), _ReplicationGroup(),
                                      _FileSystem(), _MountTarget(), _Stream(), _EcsService())}

# (service, op) -> (model, role)
_LATENCY_OPS: dict[tuple[str, str], tuple[LatencyModel, str]] = {}
for _m in LATENCY_MODELS.values():
    for _role, _ops in (("create", _m.create_ops), ("delete", _m.delete_ops), ("modify", _m.modify_ops),
                        ("describe", tuple(_m.describe_ops))):
        for _op in _ops:
            _LATENCY_OPS[(_m.service, _op)] = (_m, _role)


def _json_items(obj, path: str) -> list[dict]:
    if not isinstance(obj, dict):
        return []
    if path == "":
        return [obj]
    if path.endswith("[]"):
        v = obj.get(path[:-2])
        return [i for i in v if isinstance(i, dict)] if isinstance(v, list) else []
    v = obj.get(path)
    return [v] if isinstance(v, dict) else []


class _Resource:
    """What the proxy knows of one resource: its current window and its last description."""

    __slots__ = ("phase", "until", "started", "item", "last", "prev_running")

    def __init__(self):
        self.phase: str | None = None    # create, delete, modify; "gone" once a delete of a
        self.until = 0.0                 # "forever" type has taken its time
        self.started = 0.0
        self.item: dict = {}             # shape (XML: "xml"; JSON: the path) -> moto's item, unmodified
        self.last = None                 # the latest of those items
        self.prev_running = None         # ECS: runningCount before an UpdateService


class Latency:
    """The latency model's configuration and the resources it tracks (thread-safe)."""

    def __init__(self, factor: float = 0.0):
        self.lock = threading.Lock()
        self.factor = factor
        self.overrides: dict[str, dict] = {}
        self.resources: dict[tuple[str, str], _Resource] = {}
        self.counts = {"rewritten": 0, "spliced": 0, "synthesized": 0, "hidden": 0, "held": 0}

    # ---- configuration ----

    @property
    def enabled(self) -> bool:
        return self.factor > 0

    def secs(self, type_: str, phase: str) -> float:
        """The scaled duration of a phase of a type, in seconds."""
        base = dict(LATENCY_DURATIONS.get(type_, {}))
        base.update(self.overrides.get(type_, {}))
        return float(base.get(phase, 0)) * self.factor

    def configure(self, payload) -> None:
        """Apply a POST /__faultproxy/latency body. Raises ValueError on a bad body (nothing changes)."""
        if not isinstance(payload, dict):
            raise ValueError('the body is an object: {"factor": F, "durations": {TYPE: {"create": S, "delete": S, "modify": S}}}')
        unknown = set(payload) - {"factor", "durations", "clear"}
        if unknown:
            raise ValueError(f"unknown key(s) {sorted(unknown)}; allowed: clear, durations, factor")
        factor = parse_factor(payload["factor"]) if "factor" in payload else None
        overrides = None
        if "durations" in payload:
            durations = payload["durations"]
            if not isinstance(durations, dict):
                raise ValueError('"durations" is an object {TYPE: {"create": S, "delete": S, "modify": S}}')
            overrides = {}
            for type_, spec in durations.items():
                if type_ not in LATENCY_DURATIONS:
                    raise ValueError(f"unknown type {type_!r} in durations; known: {sorted(LATENCY_DURATIONS)}")
                allowed = ("create", "delete") if type_ == "default" else _PHASES
                if not isinstance(spec, dict) or not spec or set(spec) - set(allowed):
                    raise ValueError(f'durations[{type_!r}] is an object with some of {list(allowed)}')
                for k, v in spec.items():
                    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 86400:
                        raise ValueError(f"durations[{type_!r}][{k!r}] is a number of seconds between 0 and 86400")
                overrides[type_] = {k: float(v) for k, v in spec.items()}
        clear = payload.get("clear", False)
        if not isinstance(clear, bool):
            raise ValueError('"clear" is true or false')
        with self.lock:
            if factor is not None:
                self.factor = factor
            if overrides is not None:
                self.overrides = overrides
            if clear:
                self.resources.clear()
                for k in self.counts:
                    self.counts[k] = 0

    def describe(self) -> dict:
        now = time.monotonic()
        with self.lock:
            # durations: the seconds in use before scaling, [create, delete, modify] ([create, delete]
            # for "default"); spec: the same from the table; effective_secs: scaled by the factor.
            durations, spec, effective = {}, {}, {}
            for type_ in LATENCY_DURATIONS:
                phases = ("create", "delete") if type_ == "default" else _PHASES
                spec[type_] = [LATENCY_DURATIONS[type_].get(p, 0) for p in phases]
                durations[type_] = [self.overrides.get(type_, {}).get(p, LATENCY_DURATIONS[type_].get(p, 0)) for p in phases]
                effective[type_] = {p: round(self.secs(type_, p), 3) for p in phases}
            resources = []
            for (type_, key), rec in sorted(self.resources.items()):
                phase = rec.phase
                if phase not in (None, "gone") and now >= rec.until:  # over, not yet expired by a call
                    forever = LATENCY_MODELS[type_].moto_after_delete == "forever"
                    phase = "gone" if phase == "delete" and forever else None
                if phase is None:
                    continue
                resources.append({"type": type_, "id": key, "phase": phase,
                                  "remaining_secs": round(max(rec.until - now, 0.0), 3) if phase != "gone" else 0.0,
                                  "cached": bool(rec.item)})
            return {"enabled": self.enabled, "factor": self.factor, "durations": durations, "spec": spec,
                    "effective_secs": effective, "resources": resources, "counts": dict(self.counts)}

    # ---- the proxy's hook ----

    def _rec(self, model: LatencyModel, key: str) -> _Resource:
        rec = self.resources.get((model.type, key))
        if rec is None:
            rec = self.resources[(model.type, key)] = _Resource()
        return rec

    def _phase(self, rec: _Resource | None, now: float) -> str | None:
        """The phase an item is in now: create/delete/modify (rewrite), "gone" (hide), or None."""
        if rec is None or rec.phase is None:
            return None
        if rec.phase == "gone" or now < rec.until:
            return rec.phase
        return None

    def default_hold(self, op: str, status: int) -> float:
        """How long to hold the answer of a Create*/Delete* call of a type that is not modeled."""
        if not 200 <= status < 300:
            return 0.0
        if op.startswith("Create") and op[6:7].isupper():
            return self.secs("default", "create")
        if op.startswith("Delete") and op[6:7].isupper():
            return self.secs("default", "delete")
        return 0.0

    def on_response(self, ident: dict, method: str, target: str, req_headers, req_body: bytes,
                    status: int, headers: list, body: bytes):
        """Rewrite moto's answer to a call. Returns None (unchanged) or
        (status, headers, body, note, hold_secs); `headers` is None when they are unchanged."""
        op, service, protocol = ident["op"], ident["service"], ident["protocol"]
        found = _LATENCY_OPS.get((service, op))
        if found is None:
            hold = self.default_hold(op, status)
            if hold > 0:
                with self.lock:
                    self.counts["held"] += 1
                return status, None, body, f"held {hold:.2f}s", hold
            return None
        model, role = found
        enc = (_header(headers, "Content-Encoding") or "identity").lower()
        if enc not in ("identity", ""):
            return None  # never the case with moto; leave such an answer alone
        path = urllib.parse.urlsplit(target).path
        params = _request_params(protocol, target, req_headers, req_body)
        now = time.monotonic()
        with self.lock:
            if 200 <= status < 300:
                return self._on_success(model, role, op, protocol, path, params, req_headers, status, headers, body, now)
            if role == "describe" and status in (400, 404):
                code = _error_code(headers, body)
                if code in model.not_found_codes:
                    return self._on_not_found(model, op, protocol, path, params, req_headers, now)
                if model.parent and code in model.parent[2]:
                    return self._on_parent_not_found(model, op, protocol, path, params, req_headers, now)
        return None

    def _on_success(self, model, role, op, protocol, path, params, req_headers, status, headers, body, now):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
        doc = _XmlAnswer(text, model) if model.xml else _JsonAnswer(text, model, op)
        self._expire(model, now)
        present = doc.keys()
        if role == "modify" and model.type == "ecs:Service":
            # The tasks running before the update (what the client saw), before moto's answer is cached.
            for key in present:
                rec = self._rec(model, key)
                phase = self._phase(rec, now)
                if phase == "create":
                    rec.prev_running = 0
                elif phase != "modify":
                    rec.prev_running = rec.last.get("runningCount") if isinstance(rec.last, dict) else None
        # Remember moto's description of every item of the type, before any rewrite.
        for key, item, shape in doc.raw_items():
            rec = self._rec(model, key)
            rec.item[shape] = rec.last = item
        hold = 0.0
        notes = []
        if role in ("create", "delete", "modify"):
            keys = present or [k for k in [model.request_id(op, params, path)] if k]
            secs = self.secs(model.type, role)
            for key in keys:
                rec = self._rec(model, key)
                if secs <= 0:
                    rec.phase = "gone" if role == "delete" and model.moto_after_delete == "forever" else None
                elif role == "delete" and model.moto_after_delete == "drops" and not rec.item:
                    # Nothing known to show while it is deleting: hold the answer instead.
                    rec.phase = None
                    hold = max(hold, secs)
                    self.counts["held"] += 1
                    notes.append(f"held {secs:.2f}s")
                else:
                    rec.phase, rec.started, rec.until = role, now, now + secs
                    notes.append(f"{role} {secs:.2f}s")
        elif role == "describe":
            wanted = model.wanted(op, params, path) if model.moto_after_delete == "drops" else None
            if wanted is not None:
                spliced = 0
                for (type_, key), rec in self.resources.items():
                    if type_ != model.type or key in present or self._phase(rec, now) != "delete":
                        continue
                    if doc.splice(key, rec, wanted, op):
                        spliced += 1
                if spliced:
                    self.counts["spliced"] += spliced
                    notes.append("spliced")
        # Rewrite the items in a window; hide those gone for good.
        hidden = 0
        phases = set()
        for key in doc.keys():
            rec = self.resources.get((model.type, key))
            phase = self._phase(rec, now)
            if phase == "gone":
                doc.remove(key)
                hidden += 1
            elif phase is not None:
                doc.mutate(key, phase, rec)
                phases.add(model.label(phase))
        if phases:
            self.counts["rewritten"] += 1
            notes.insert(0, ",".join(sorted(phases)))
        if hidden:
            self.counts["hidden"] += hidden
            if role == "describe" and model.by_id(op, params, path) and not doc.keys():
                code = model.not_found_codes[0]
                ident = model.request_id(op, params, path)
                s, h, b = error_response(protocol, model.service, model.not_found_status, code,
                                         f"{model.type} {ident} not found.", req_headers)
                return s, h, b, "gone (not found)", 0.0
            notes.append("gone (hidden)")
        note = " ".join(notes) or None
        if not doc.changed:
            return (status, None, body, note, hold) if (hold or note) else None
        new_body = doc.render().encode("utf-8")
        return status, _fix_crc(headers, new_body), new_body, note, hold

    def _on_not_found(self, model, op, protocol, path, params, req_headers, now):
        if not model.by_id(op, params, path):
            return None
        self._expire(model, now)
        key = model.request_id(op, params, path)
        rec = self.resources.get((model.type, key))
        if self._phase(rec, now) != "delete" or not rec.item:
            return None
        answer = _XmlAnswer.synthesize(model, op, [rec]) if model.xml else _JsonAnswer.synthesize(model, op, [rec])
        if answer is None:
            return None
        answer.mutate(key, "delete", rec)
        return self._synthesized(model, protocol, req_headers, answer)

    def _on_parent_not_found(self, model, op, protocol, path, params, req_headers, now):
        """A list describe by a parent that moto dropped but that is still deleting: list the
        children that are deleting too (none, if they are all gone)."""
        self._expire(model, now)
        parent_type, param, _ = model.parent
        parent_model = LATENCY_MODELS[parent_type]
        self._expire(parent_model, now)
        pkey = parent_model.norm(params.get(param))
        if pkey is None or self._phase(self.resources.get((parent_type, pkey)), now) != "delete":
            return None
        wanted = model.wanted(op, params, path)
        if wanted is None or model.xml:
            return None
        answer = _JsonAnswer.synthesize(model, op, [])
        if answer is None:
            return None
        for (type_, key), rec in self.resources.items():
            if type_ == model.type and self._phase(rec, now) == "delete" and answer.splice(key, rec, wanted, op):
                answer.mutate(key, "delete", rec)
        return self._synthesized(model, protocol, req_headers, answer)

    def _synthesized(self, model, protocol, req_headers, answer):
        out = answer.render().encode("utf-8")
        if model.xml:
            ct = "text/xml"
        elif protocol == "awsJson":
            ct = _header(req_headers, "Content-Type") or "application/x-amz-json-1.1"
        else:
            ct = "application/json"
        self.counts["synthesized"] += 1
        out_headers = [("Content-Type", ct), ("x-amzn-RequestId", str(uuid.uuid4())), ("Content-Length", str(len(out)))]
        return 200, out_headers, out, "deleting (synthesized)", 0.0

    def _expire(self, model, now: float) -> None:
        """Forget windows that are over (a "forever" type's deleted resource stays, as "gone")."""
        for (type_, key), rec in list(self.resources.items()):
            if type_ != model.type or rec.phase in (None, "gone") or now < rec.until:
                continue
            if rec.phase == "delete":
                if model.moto_after_delete == "forever":
                    rec.phase = "gone"
                else:
                    del self.resources[(type_, key)]
            else:
                rec.phase = None


def _fix_crc(headers: list, body: bytes) -> list | None:
    """Headers for a rewritten body: an x-amz-crc32 (if moto sent one) must match the new body."""
    if not any(k.lower() == "x-amz-crc32" for k, _ in headers):
        return None
    crc = str(zlib.crc32(body) & 0xFFFFFFFF)
    return [(k, crc if k.lower() == "x-amz-crc32" else v) for k, v in headers]


class _XmlAnswer:
    """An awsQuery / ec2Query answer, edited as text."""

    def __init__(self, text: str, model: LatencyModel):
        self.text = text
        self.model = model
        self.changed = False
        self._parse()

    def _parse(self):
        self.tree = _xml_tree(self.text)
        self.items: dict[str, _XNode] = {}
        for node in self.tree.walk():
            if node.tag in self.model.item_tags:
                idn = node.child(self.model.key)
                if idn is not None and not idn.children:
                    key = self.model.norm(_xml_leaf_text(self.text, idn))
                    if key and key not in self.items:
                        self.items[key] = node

    def keys(self) -> list[str]:
        return list(self.items)

    def raw_items(self):
        for key, node in self.items.items():
            yield key, self.text[node.start:node.end], "xml"

    def _edit(self, edits):
        if edits:
            self.text = _apply_edits(self.text, edits)
            self.changed = True
            self._parse()

    def mutate(self, key, phase, rec):
        node = self.items.get(key)
        st = node.child(self.model.status) if node is not None else None
        if st is None or st.children:
            return
        value = self.model.states[phase]
        if _xml_leaf_text(self.text, st) == value:
            return
        if st.inner_start == st.inner_end and self.text[st.start:st.end].rstrip().endswith("/>"):
            self._edit([(st.start, st.end, f"<{self.model.status}>{value}</{self.model.status}>")])
        else:
            self._edit([(st.inner_start, st.inner_end, _xml_escape(value))])

    def remove(self, key):
        node = self.items.get(key)
        if node is not None:
            self._edit([(node.start, node.end, "")])

    def splice(self, key, rec, wanted, op) -> bool:
        raw = rec.item.get("xml")
        container_tag = self.model.containers.get(op)
        if not raw or not container_tag:
            return False
        snippet = _xml_tree(raw)
        node = next((n for n in snippet.children if n.tag in self.model.item_tags), None)
        if node is None or not wanted(_xml_fields(raw, node)):
            return False
        container = next((n for n in self.tree.walk() if n.tag == container_tag), None)
        if container is None:
            return False
        if container.inner_start == container.inner_end and self.text[container.start:container.end].rstrip().endswith("/>"):
            self._edit([(container.start, container.end, f"<{container_tag}>{raw}</{container_tag}>")])
        else:
            self._edit([(container.inner_end, container.inner_end, raw)])
        return key in self.items

    def render(self) -> str:
        return self.text

    @classmethod
    def synthesize(cls, model, op, recs):
        """A success answer to `op` listing the cached items of `recs`."""
        raws = [r.item.get("xml") for r in recs]
        container = model.containers.get(op)
        if not all(raws) or not container or not model.xmlns:
            return None
        raw = "".join(raws)
        text = (f'<{op}Response xmlns="{model.xmlns}"><{op}Result><{container}>{raw}</{container}></{op}Result>'
                f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{op}Response>")
        answer = cls(text, model)
        answer.changed = True
        return answer


class _JsonAnswer:
    """An awsJson / restJson answer, as a parsed object."""

    def __init__(self, text: str, model: LatencyModel, op: str):
        self.model = model
        self.op = op
        self.path = model.paths.get(op)  # None: the answer holds no item (CreateStream, DeleteFileSystem)
        self.changed = False
        try:
            self.obj = json.loads(text) if text.strip() else {}
        except ValueError:
            self.obj = None

    def _items(self) -> dict[str, dict]:
        out = {}
        if self.path is None:
            return out
        for item in _json_items(self.obj, self.path):
            key = self.model.norm(item.get(self.model.key))
            if key and key not in out:
                out[key] = item
        return out

    def keys(self) -> list[str]:
        return list(self._items())

    def raw_items(self):
        for key, item in self._items().items():
            yield key, json.loads(json.dumps(item)), self.path

    def mutate(self, key, phase, rec):
        item = self._items().get(key)
        if item is not None:
            before = json.dumps(item, sort_keys=True)
            self.model.mutate(item, phase, rec)
            if json.dumps(item, sort_keys=True) != before:
                self.changed = True

    def remove(self, key):
        if self.path is None or not self.path.endswith("[]"):
            return
        lst = self.obj.get(self.path[:-2])
        if isinstance(lst, list):
            self.obj[self.path[:-2]] = [i for i in lst if not (isinstance(i, dict) and self.model.norm(i.get(self.model.key)) == key)]
            self.changed = True

    def _cached(self, rec) -> dict | None:
        item = rec.item.get(self.path)
        if item is None and rec.item:
            item = self.model.convert(next(iter(rec.item.values())), self.path)
        return json.loads(json.dumps(item)) if isinstance(item, dict) else None

    def splice(self, key, rec, wanted, op) -> bool:
        if self.path is None or not self.path.endswith("[]"):
            return False
        item = self._cached(rec)
        if item is None or not wanted(item):
            return False
        lst = self.obj.setdefault(self.path[:-2], [])
        if not isinstance(lst, list):
            return False
        lst.append(item)
        if self.model.type == "kinesis:Stream" and isinstance(self.obj.get("StreamNames"), list):
            self.obj["StreamNames"] = sorted(set(self.obj["StreamNames"]) | {item.get("StreamName")})
        self.changed = True
        return True

    def render(self) -> str:
        return json.dumps(self.obj)

    @classmethod
    def synthesize(cls, model, op, recs):
        """A success answer to `op` with the cached items of `recs` (a list may be empty)."""
        answer = cls("{}", model, op)
        if answer.path is None:
            return None
        items = [answer._cached(r) for r in recs]
        if any(i is None for i in items):
            return None
        if answer.path.endswith("[]"):
            answer.obj = {answer.path[:-2]: items}
        elif len(items) == 1:
            answer.obj = {answer.path: items[0]} if answer.path else items[0]
        else:
            return None
        answer.changed = True
        return answer


# --------------------------------------------------------------------------------------------
# The HTTP server
# --------------------------------------------------------------------------------------------


class ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], state: State, verbose: bool, timeout: float,
                 latency: Latency | None = None):
        host = listen[0]
        self.latency = latency if latency is not None else Latency()
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.upstream = upstream
        self.state = state
        self.verbose = verbose
        self.upstream_timeout = timeout
        # {BUCKET: {"region", "status"}}: S3 buckets that live in another region (--s3-bucket-region).
        self.bucket_regions: dict[str, dict] = {}
        self.bucket_regions_lock = threading.Lock()
        super().__init__(listen, Handler)

    def server_bind(self):
        # HTTPServer.server_bind calls socket.getfqdn(), a DNS lookup that can stall; skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.server_address[0]
        self.server_port = self.server_address[1]


class _Reset(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy"
    timeout = 600  # seconds an idle keep-alive connection (or a stalled body) is kept
    server: ProxyServer

    # Silence the default per-request log line; --verbose prints our own.
    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        if self.server.verbose:
            sys.stderr.write("faultproxy: %s - %s\n" % (self.address_string(), format % args))

    def log_request(self, code="-", size="-"):
        pass

    # ---- request body ----------------------------------------------------------------------

    def _read_body(self) -> tuple[bytes, bytes]:
        """(raw bytes as received, decoded body). Handles Content-Length and chunked."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            raw = bytearray()
            data = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("client closed the connection inside a chunked body")
                raw += line
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers, up to the empty line
                        trailer = self.rfile.readline(65537)
                        raw += trailer
                        if trailer in (b"\r\n", b"\n", b""):
                            break
                    break
                if len(data) + size > MAX_BODY:
                    raise ValueError("request body too large")
                chunk = self.rfile.read(size)
                crlf = self.rfile.readline(65537)
                raw += chunk + crlf
                data += chunk
            return bytes(raw), bytes(data)
        length = self.headers.get("Content-Length")
        if length:
            n = int(length)
            if n < 0 or n > MAX_BODY:
                raise ValueError("bad Content-Length")
            body = self.rfile.read(n)
            return body, body
        return b"", b""

    # ---- dispatch --------------------------------------------------------------------------

    def _handle(self):
        try:
            raw, body = self._read_body()
        except (ValueError, ConnectionError) as e:
            self.close_connection = True
            self._send_plain(400, {"error": f"faultproxy: bad request body: {e}"})
            return
        target = self.path
        if not target.startswith("/"):
            # An absolute-form target means a client is using us as a forward proxy: refuse,
            # we only ever talk to --upstream.
            self.close_connection = True
            self._send_plain(400, {"error": "faultproxy is not a forward proxy; send origin-form requests"})
            return
        if target.startswith(CONTROL_PREFIX) or target.rstrip("/") == CONTROL_PREFIX.rstrip("/"):
            self._control(target, body)
            return
        self._proxy(target, raw, body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    # ---- control API -----------------------------------------------------------------------

    def _send_plain(self, status: int, obj) -> None:
        body = json.dumps(obj, indent=1).encode() + b"\n"
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _control(self, target: str, body: bytes) -> None:
        state = self.server.state
        parsed = urllib.parse.urlsplit(target)
        route = parsed.path[len(CONTROL_PREFIX):].strip("/") if parsed.path.startswith(CONTROL_PREFIX) else ""
        query = urllib.parse.parse_qs(parsed.query)
        method = self.command
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError as e:
            self._send_plain(400, {"error": f"body is not JSON: {e}"})
            return
        if route == "rules" and method == "GET":
            self._send_plain(200, {"rules": [r.describe() for r in state.rules]})
        elif route == "rules" and method in ("POST", "PUT"):
            try:
                rules = parse_rules(payload if payload is not None else [])
            except RuleError as e:
                self._send_plain(400, {"error": str(e)})
                return
            state.set_rules(rules)
            self._send_plain(200, {"rules": len(rules)})
        elif route == "stats" and method == "GET":
            self._send_plain(200, state.stats())
        elif route == "log" and method == "GET":
            try:
                since = int(query.get("since", ["0"])[0])
            except ValueError:
                self._send_plain(400, {"error": "since is an integer (a seq number)"})
                return
            self._send_plain(200, state.log_since(since))
        elif route == "reset" and method == "POST":
            seed = None
            if isinstance(payload, dict) and payload.get("seed") is not None:
                if not isinstance(payload["seed"], int) or isinstance(payload["seed"], bool):
                    self._send_plain(400, {"error": "seed is an integer"})
                    return
                seed = payload["seed"]
            state.reset(seed)
            self._send_plain(200, {"reset": True, "seed": state.seed})
        elif route == "latency" and method == "GET":
            self._send_plain(200, self.server.latency.describe())
        elif route == "latency" and method in ("POST", "PUT"):
            try:
                self.server.latency.configure(payload if payload is not None else {})
            except ValueError as e:
                self._send_plain(400, {"error": str(e)})
                return
            self._send_plain(200, self.server.latency.describe())
        elif route == "s3-bucket-regions" and method == "GET":
            with self.server.bucket_regions_lock:
                self._send_plain(200, {"buckets": dict(self.server.bucket_regions)})
        elif route == "s3-bucket-regions" and method in ("POST", "PUT"):
            try:
                regions = parse_bucket_regions(payload if payload is not None else {})
            except ValueError as e:
                self._send_plain(400, {"error": str(e)})
                return
            with self.server.bucket_regions_lock:
                self.server.bucket_regions = regions
            self._send_plain(200, {"buckets": regions})
        elif route in ("", "health") and method == "GET":
            host, port = self.server.upstream
            self._send_plain(200, {"ok": True, "upstream": f"http://{_fmt_host(host)}:{port}", "seed": state.seed})
        else:
            self._send_plain(404, {"error": f"unknown control endpoint {method} {CONTROL_PREFIX}{route}",
                                   "endpoints": ["GET rules", "POST rules", "GET stats", "GET log?since=SEQ", "POST reset",
                                                 "GET latency", "POST latency", "GET s3-bucket-regions",
                                                 "POST s3-bucket-regions", "GET health"]})

    # ---- proxying --------------------------------------------------------------------------

    def _proxy(self, target: str, raw: bytes, body: bytes) -> None:
        state = self.server.state
        headers = list(self.headers.items())
        ident = identify(self.command, target, headers, body)
        op, service, protocol = ident["op"], ident["service"], ident["protocol"]
        started = time.monotonic()
        region = signing_region(target, headers)
        entry = {"op": op, "service": service, "protocol": protocol, "method": self.command,
                 "path": urllib.parse.urlsplit(target).path, "region": region, "status": None, "fault": None,
                 "rule": None}
        bucket_spec = None
        if service == "s3":
            with self.server.bucket_regions_lock:
                regions = dict(self.server.bucket_regions)
            bucket, _key = s3_bucket_and_key(target, headers, regions)
            bucket_spec = regions.get(bucket) if bucket else None
            if bucket_spec is not None and region is not None and region != bucket_spec["region"]:
                # S3 routes a request before anything else happens to it: no rule applies.
                status, out_headers, out_body, code = wrong_region_response(self.command, bucket, region, bucket_spec)
                entry.update(status=status, fault="redirect", code=code)
                entry["ms"] = round((time.monotonic() - started) * 1000, 1)
                self._record(entry, forwarded=False)
                self._write_response(status, None, out_headers, out_body, chunked=False)
                return
        rule = state.choose(op, service)
        if rule is not None:
            entry["fault"] = rule.kind
            entry["rule"] = rule.index
            if rule.delay_ms:
                time.sleep(rule.delay_ms / 1000.0)

        if rule is not None and rule.kind == "reset":
            entry["ms"] = round((time.monotonic() - started) * 1000, 1)
            self._record(entry, forwarded=False)
            raise _Reset()

        if rule is not None and rule.kind in ("fail", "throttle", "server_error"):
            status, code, message = rule.error_for(protocol, service)
            status, out_headers, out_body = error_response(protocol, service, status, code, message, headers)
            entry["status"] = status
            entry["code"] = code
            entry["ms"] = round((time.monotonic() - started) * 1000, 1)
            self._record(entry, forwarded=False)
            self._write_response(status, None, out_headers, out_body, chunked=False)
            return

        try:
            status, reason, up_headers, up_body, chunked = self._forward(target, headers, raw)
        except (OSError, ValueError, http.client.HTTPException) as e:
            status, out_headers, out_body = error_response(
                protocol, service, 502, "FaultProxyUpstreamError", f"faultproxy: upstream unreachable: {e}", headers)
            entry["status"] = status
            entry["fault"] = entry["fault"] or "upstream_error"
            entry["ms"] = round((time.monotonic() - started) * 1000, 1)
            self._record(entry, forwarded=False)
            self._write_response(status, None, out_headers, out_body, chunked=False)
            return
        hold = 0.0
        latency = self.server.latency
        if latency.enabled:
            try:
                changed = latency.on_response(ident, self.command, target, headers, body, status, up_headers, up_body)
            except Exception as e:  # noqa: BLE001 - a bug in the model must not break the call
                changed = None
                sys.stderr.write(f"faultproxy: latency model error on {op}: {type(e).__name__}: {e}\n")
            if changed is not None:
                new_status, new_headers, up_body, entry["latency"], hold = changed
                if new_headers is not None or new_status != status:
                    up_headers = new_headers if new_headers is not None else up_headers
                    chunked = chunked and new_status == status
                if new_status != status:
                    status, reason = new_status, None
        if bucket_spec is not None:
            # moto answers with the region it was asked in; S3 with the bucket's own.
            up_headers = [(k, bucket_spec["region"] if k.lower() == "x-amz-bucket-region" else v) for k, v in up_headers]
        entry["status"] = status
        entry["ms"] = round((time.monotonic() - started) * 1000, 1)
        self._record(entry, forwarded=True)
        if rule is not None and rule.delay_after_ms:
            time.sleep(rule.delay_after_ms / 1000.0)
        if hold > 0:
            time.sleep(hold)
        self._write_response(status, reason, up_headers, up_body, chunked=chunked, upstream=True)

    def _record(self, entry: dict, forwarded: bool) -> None:
        self.server.state.record(entry, forwarded)
        if self.server.verbose:
            sys.stderr.write(
                f"faultproxy: #{entry['seq']} {entry['service']} {entry['op']} {entry['method']} {entry['path']}"
                f" -> {entry['status'] if entry['status'] is not None else 'RESET'}"
                f"{' [' + entry['fault'] + ']' if entry['fault'] else ''}"
                f"{' {' + entry['latency'] + '}' if entry.get('latency') else ''} {entry.get('ms', 0)} ms\n"
            )

    def _forward(self, target: str, headers: list[tuple[str, str]], raw: bytes):
        host, port = self.server.upstream
        conn = http.client.HTTPConnection(host, port, timeout=self.server.upstream_timeout)
        try:
            conn.putrequest(self.command, target, skip_host=True, skip_accept_encoding=True)
            has_host = False
            for name, value in headers:
                lname = name.lower()
                if lname in HOP_BY_HOP or lname == "expect":  # 100-continue was answered by us
                    continue
                if lname == "host":
                    has_host = True
                conn.putheader(name, value)
            if not has_host:
                conn.putheader("Host", f"{_fmt_host(host)}:{port}")
            conn.putheader("Connection", "close")
            conn.endheaders(raw if raw else None)
            resp = conn.getresponse()
            chunked = resp.chunked
            data = resp.read() if self.command != "HEAD" else b""
            return resp.status, resp.reason, resp.getheaders(), data, chunked
        finally:
            conn.close()

    def _write_response(self, status, reason, headers, body: bytes, chunked: bool, upstream: bool = False) -> None:
        self.send_response_only(status, reason)
        no_body = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        has_length = False
        for name, value in headers:
            lname = name.lower()
            if lname in HOP_BY_HOP or lname == "transfer-encoding":
                continue
            if lname == "content-length":
                if chunked:
                    continue
                if not no_body:
                    value = str(len(body))  # identical to the upstream's when it gave one
                if has_length:
                    continue
                has_length = True
            self.send_header(name, value)
        if not no_body:
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            elif not has_length:
                self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if no_body:
            return
        if chunked:
            if body:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    # ---- connection handling ---------------------------------------------------------------

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except _Reset:
            # Abort the connection: SO_LINGER 0 makes close() send a TCP RST, no response.
            self.close_connection = True
            self._reset = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def finish(self):
        if getattr(self, "_reset", False):
            for f in (self.rfile, self.wfile):
                try:
                    f.close()
                except OSError:
                    pass
            try:
                self.connection.close()
            except OSError:
                pass
            return
        try:
            super().finish()
        except OSError:
            pass


def _fmt_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _loopback_host(host: str, what: str) -> str:
    host = host.strip("[]")
    if host == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise SystemExit(f"faultproxy: {what} must be a loopback IP address (127.0.0.0/8, ::1 or localhost), got {host!r}")
    if not addr.is_loopback:
        raise SystemExit(f"faultproxy: refusing {what} {host}: only loopback addresses are allowed")
    return str(addr)


def parse_listen(value: str) -> tuple[str, int]:
    m = re.match(r"^(\[[^\]]+\]|[^:]+):(\d+)$", value)
    if not m:
        raise SystemExit(f"faultproxy: --listen is HOST:PORT (e.g. 127.0.0.1:0), got {value!r}")
    port = int(m.group(2))
    if port > 65535:
        raise SystemExit(f"faultproxy: bad port {port}")
    return _loopback_host(m.group(1), "--listen"), port


def parse_upstream(value: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(value)
    if u.scheme != "http":
        raise SystemExit(f"faultproxy: --upstream is http://HOST:PORT (plain HTTP, loopback), got {value!r}")
    if u.path not in ("", "/") or u.query or u.fragment or u.username or u.password:
        raise SystemExit(f"faultproxy: --upstream is http://HOST:PORT with no path, got {value!r}")
    if not u.hostname:
        raise SystemExit(f"faultproxy: --upstream has no host: {value!r}")
    try:
        port = u.port or 80
    except ValueError as e:
        raise SystemExit(f"faultproxy: bad --upstream port: {e}")
    return _loopback_host(u.hostname, "--upstream"), port


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fault-injecting HTTP proxy between an AWS SDK and a local AWS emulator (loopback only).")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on, loopback only; port 0 picks a free port (default 127.0.0.1:0)")
    ap.add_argument("--upstream", required=True, help="http://HOST:PORT of the emulator, loopback only")
    ap.add_argument("--port-file", help="write the port listened on to this file (atomically) once ready")
    ap.add_argument("--config", help="JSON file with the initial rules (a list, or {\"rules\": [...]})")
    ap.add_argument("--seed", type=int, help="seed for rate-based rules (default: random, shown in /__faultproxy/stats)")
    ap.add_argument("--upstream-timeout", type=float, default=120.0, help="seconds to wait for the upstream (default 120)")
    ap.add_argument("--latency", metavar="FACTOR",
                    help="model AWS creation and deletion times, scaled by FACTOR (e.g. 1/60 or 0.0167); needs --durations; see FAULTPROXY.md")
    ap.add_argument("--durations", metavar="FILE",
                    help="the types' typical durations: the output of `ironplan types --format json`")
    ap.add_argument("--s3-bucket-region", metavar="BUCKET=REGION", action="append", default=[],
                    help="answer S3 requests for BUCKET signed for another region as S3 does (301 and x-amz-bucket-region); repeatable")
    ap.add_argument("--verbose", "-v", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)

    listen = parse_listen(args.listen)
    upstream = parse_upstream(args.upstream)
    bucket_regions = {}
    for value in args.s3_bucket_region:
        try:
            bucket, spec = parse_bucket_region_arg(value)
        except ValueError as e:
            raise SystemExit(f"faultproxy: {e}")
        bucket_regions[bucket] = spec
    state = State(args.seed)
    latency = Latency()
    if args.durations:
        try:
            load_durations(args.durations)
        except ValueError as e:
            raise SystemExit(f"faultproxy: --durations: {e}")
    elif args.latency is not None:
        raise SystemExit("faultproxy: --latency needs --durations FILE (write it with `ironplan types --format json`)")
    if args.latency is not None:
        try:
            latency.factor = parse_factor(args.latency)
        except ValueError as e:
            raise SystemExit(f"faultproxy: --latency: {e}")
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as f:
                state.set_rules(parse_rules(json.load(f)))
        except (OSError, ValueError) as e:
            raise SystemExit(f"faultproxy: --config {args.config}: {e}")

    try:
        server = ProxyServer(listen, upstream, state, args.verbose, args.upstream_timeout, latency)
    except OSError as e:
        raise SystemExit(f"faultproxy: cannot listen on {_fmt_host(listen[0])}:{listen[1]}: {e}")
    server.bucket_regions = bucket_regions
    port = server.server_address[1]

    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="faultproxy", daemon=True)
    thread.start()

    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    try:
        print(port, flush=True)
    except OSError:  # stdout closed by whoever started us: the port file is enough
        pass
    sys.stderr.write(
        f"faultproxy: listening on http://{_fmt_host(listen[0])}:{port} -> http://{_fmt_host(upstream[0])}:{upstream[1]}"
        f" (seed {state.seed}, {len(state.rules)} rule(s)"
        f"{f', latency x{latency.factor:g}' if latency.enabled else ''})\n"
    )
    sys.stderr.flush()

    while not stop.wait(0.5):
        if not thread.is_alive():
            break
    server.shutdown()
    server.server_close()
    sys.stderr.write("faultproxy: stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
