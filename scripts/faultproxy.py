#!/usr/bin/env python3
"""faultproxy: a fault-injecting HTTP proxy between an AWS SDK and a local AWS emulator (moto).

    faultproxy.py --listen 127.0.0.1:0 --upstream http://127.0.0.1:MOTOPORT \
                  [--port-file F] [--config rules.json] [--seed N] [--verbose]

Every request is forwarded to the upstream unchanged (method, path, query, headers, body) and
the upstream's answer is returned unchanged, unless a fault rule matches the request's AWS
operation. Rules fail, throttle, 5xx, delay or reset calls; the error bodies are in the wire
format the SDK parses for that service's protocol. A control API lives on the same port under
/__faultproxy/ (rules, stats, log, reset). Only loopback addresses are accepted, and the only
address it ever connects to is the --upstream one. See FAULTPROXY.md.

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

REST_ROUTES = {"apigateway": APIGATEWAY_ROUTES, "elasticfilesystem": EFS_ROUTES}

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


def throttle_code(protocol: str | None) -> str:
    if protocol == "ec2Query":
        return "RequestLimitExceeded"  # what EC2 itself answers
    if protocol == "awsQuery":
        return "Throttling"
    return "ThrottlingException"


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------

FAULT_KINDS = ("fail", "throttle", "server_error", "reset")
RULE_KEYS = {"op", "service", "count", "after", "rate", "delay_ms", "delay_after_ms", "comment", *FAULT_KINDS}


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

    def error_for(self, protocol: str | None) -> tuple[int, str, str]:
        """(status, code, message) of the error this rule injects for a protocol."""
        if self.kind == "throttle":
            code = self.code or throttle_code(protocol)
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
# The HTTP server
# --------------------------------------------------------------------------------------------


class ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], state: State, verbose: bool, timeout: float):
        host = listen[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.upstream = upstream
        self.state = state
        self.verbose = verbose
        self.upstream_timeout = timeout
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
        elif route in ("", "health") and method == "GET":
            host, port = self.server.upstream
            self._send_plain(200, {"ok": True, "upstream": f"http://{_fmt_host(host)}:{port}", "seed": state.seed})
        else:
            self._send_plain(404, {"error": f"unknown control endpoint {method} {CONTROL_PREFIX}{route}",
                                   "endpoints": ["GET rules", "POST rules", "GET stats", "GET log?since=SEQ", "POST reset", "GET health"]})

    # ---- proxying --------------------------------------------------------------------------

    def _proxy(self, target: str, raw: bytes, body: bytes) -> None:
        state = self.server.state
        headers = list(self.headers.items())
        ident = identify(self.command, target, headers, body)
        op, service, protocol = ident["op"], ident["service"], ident["protocol"]
        started = time.monotonic()
        rule = state.choose(op, service)
        entry = {"op": op, "service": service, "protocol": protocol, "method": self.command,
                 "path": urllib.parse.urlsplit(target).path, "status": None, "fault": None, "rule": None}
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
            status, code, message = rule.error_for(protocol)
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
        entry["status"] = status
        entry["ms"] = round((time.monotonic() - started) * 1000, 1)
        self._record(entry, forwarded=True)
        if rule is not None and rule.delay_after_ms:
            time.sleep(rule.delay_after_ms / 1000.0)
        self._write_response(status, reason, up_headers, up_body, chunked=chunked, upstream=True)

    def _record(self, entry: dict, forwarded: bool) -> None:
        self.server.state.record(entry, forwarded)
        if self.server.verbose:
            sys.stderr.write(
                f"faultproxy: #{entry['seq']} {entry['service']} {entry['op']} {entry['method']} {entry['path']}"
                f" -> {entry['status'] if entry['status'] is not None else 'RESET'}"
                f"{' [' + entry['fault'] + ']' if entry['fault'] else ''} {entry.get('ms', 0)} ms\n"
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
    ap.add_argument("--verbose", "-v", action="store_true", help="log every request to stderr")
    args = ap.parse_args(argv)

    listen = parse_listen(args.listen)
    upstream = parse_upstream(args.upstream)
    state = State(args.seed)
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as f:
                state.set_rules(parse_rules(json.load(f)))
        except (OSError, ValueError) as e:
            raise SystemExit(f"faultproxy: --config {args.config}: {e}")

    try:
        server = ProxyServer(listen, upstream, state, args.verbose, args.upstream_timeout)
    except OSError as e:
        raise SystemExit(f"faultproxy: cannot listen on {_fmt_host(listen[0])}:{listen[1]}: {e}")
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
        f" (seed {state.seed}, {len(state.rules)} rule(s))\n"
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
