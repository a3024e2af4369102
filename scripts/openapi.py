#!/usr/bin/env python3
"""Generates Sources/CairnHTTP/Support/OpenAPISpec.swift: the OpenAPI 3.1 document of /v1.

The document is compiled into the binary (one file to ship); this script is its source.
Run it after changing a route: python3 scripts/openapi.py
"""
import json, pathlib, sys

def ref(n): return {"$ref": f"#/components/schemas/{n}"}
S = lambda **kw: {"type": "string", **kw}
I = lambda **kw: {"type": "integer", **kw}
B = {"type": "boolean"}
def arr(x): return {"type": "array", "items": x}
def obj(props, required=(), extra=False):
    o = {"type": "object", "properties": props}
    if required: o["required"] = list(required)
    if not extra: o["additionalProperties"] = False
    return o
def nullable(x): return {"anyOf": [x, {"type": "null"}]}

HEX = S(pattern="^[0-9a-f]{64}$")
# The request grammar, as exactly as JSON Schema can say it, so a client (or schemathesis) can
# tell a valid request from an invalid one without asking the server.
PROJECT_NAME = S(pattern="^[a-z0-9][a-z0-9._-]{0,63}$")
WEB_URL = S(pattern="^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[!-~]*)?$", description="http(s)://HOST[:PORT][/PATH]: a host name or IPv4 address, a path of printable ASCII")
ACCESS_NAME = S(pattern="^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$", description="a role, grant or key name: it becomes a file name")
SUBJECT = S(pattern="^(user|group|agent|service):[^\\n]{1,248}$", description="user:ID, group:NAME, agent:ID or service:ID")
BRANCH = S(pattern="^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$", maxLength=200,
           **{"not": {"anyOf": [{"pattern": "^[0-9a-fA-F]{4,}$"}, {"pattern": "\\.\\."}]}},
           description="letters, digits, '.', '_', '-', '/' between segments; not only hex digits (those read as commit ids)")
FILE_PATH = S(pattern="^[^/\\\\\\u0000]+(/[^/\\\\\\u0000]+)*$", maxLength=1024,
              **{"not": {"pattern": "(^|/)[.][.]?(/|$)"}},
              description="a relative path with '/' between segments; no '.' or '..' segment, no '\\\\', at most 1024 bytes in UTF-8")
TIME = S(format="date-time")
REF_S = S(minLength=1, description="a branch, a commit id or unique prefix of 4+ hex digits, BRANCH@TIME (RFC 3339), or REF~N")
GLOB = S(minLength=1, maxLength=1024)

# The arguments of Run and Solve, described once: the HTTP bodies below and the agent tools
# (TOOLS, further down) are both made from these, so a field or a bound is changed in one place.
NUMBER = {"type": "number"}
POINT = {**arr(NUMBER), "minItems": 2, "maxItems": 2}
ROADS = {**GLOB, "description": "The road files (a glob, default roads/**)"}
RUN_FIELDS = {
  "function": S(enum=["distance", "length", "area", "centroid", "bbox", "contains", "nearest", "snap", "route", "isochrone", "routes", "matrix"]),
  "points": arr(POINT), "inputs": arr(S(minLength=1)), "geometry": {"type": "object"}, "roads": ROADS,
  "classes": arr(S()), "weight": S(enum=["distance", "time"]), "budget": {"type": "number", "minimum": 0},
  "pairs": {**arr({**arr(POINT), "minItems": 2, "maxItems": 2}), "maxItems": 10000},
  "destinations": arr(POINT), "provenance": S(enum=["summary", "full"]), "output": FILE_PATH,
}
SOLVE_FIELDS = {
  "kind": S(enum=["linear", "routing", "facility_location", "crew_assignment"]), "input": FILE_PATH,
  "model": {"oneOf": [{"type": "object"}, S()]}, "format": S(enum=["json", "lp", "mps"]),
  "solver": S(enum=["auto", "glpk", "cbc"]),
  "timeLimit": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400}, "gap": {"type": "number", "minimum": 0},
  "seed": I(minimum=0), "iterations": I(minimum=1, maximum=1000000), "stops": GLOB, "depots": GLOB, "roads": ROADS,
  "vehicles": I(minimum=1, maximum=1000), "capacity": {"type": "number", "minimum": 0},
  "shiftEnd": {"type": "number", "minimum": 0}, "maxDuration": {"type": "number", "minimum": 0},
  "maxDistance": {"type": "number", "minimum": 0}, "output": FILE_PATH,
}
SOLVE_ID = S(pattern="^[A-Za-z0-9._-]{1,64}$")
schemas = {
  "OGCLink": obj({"href": S(), "rel": S(), "type": S(), "title": S()}, ["href", "rel"]),
  "OGCLanding": obj({"title": S(), "description": S(), "links": arr(ref("OGCLink"))}, ["links"]),
  "OGCConformance": obj({"conformsTo": arr(S())}, ["conformsTo"]),
  "OGCCollection": obj({"id": S(), "title": S(), "itemType": S(), "crs": arr(S()), "storageCrs": S(),
                        "extent": obj({"spatial": obj({"bbox": arr(arr(NUMBER)), "crs": S()})}), "links": arr(ref("OGCLink"))}, ["id", "links"]),
  "OGCCollections": obj({"links": arr(ref("OGCLink")), "collections": arr(ref("OGCCollection"))}, ["links", "collections"]),
  "GeoJSONFeature": {"type": "object", "description": "A GeoJSON Feature (RFC 7946): the file as stored, with its path as `id`.",
                     "properties": {"type": S(const="Feature"), "id": S(), "geometry": {"type": "object"}, "properties": {}, "links": arr(ref("OGCLink"))},
                     "required": ["type", "geometry"]},
  "GeoJSONFeatureCollection": obj({"type": S(const="FeatureCollection"), "features": arr(ref("GeoJSONFeature")), "numberReturned": I(), "numberMatched": I(),
                                   "timeStamp": S(), "links": arr(ref("OGCLink"))}, ["type", "features", "links"]),
  "OGCCells": obj({"commit": S(), "bbox": arr(NUMBER), "columns": I(), "rows": I(), "numberMatched": I(),
                   "cells": arr(obj({"column": I(), "row": I(), "count": I(), "center": arr(NUMBER)}, ["column", "row", "count", "center"]))},
                  ["commit", "columns", "rows", "numberMatched", "cells"]),
  "Violation": obj({"constraint": S(), "path": S(), "pointer": S(), "message": S()}, ["constraint", "path", "pointer", "message"]),
  "Error": obj({"error": obj({"code": S(), "message": S(), "details": {"type": "object", "additionalProperties": S()},
                              "violations": arr(ref("Violation"))}, ["code", "message", "details"])}, ["error"]),
  "Outcome": obj({"commit": nullable(HEX), "head": HEX, "branch": S(), "changed": arr(S()),
                  "mergeRequest": I(description="set (with status 202) when a protected branch made the write a merge request; `branch` is then the proposal branch")},
                 ["head", "branch", "changed"]),
  "FileLines": obj({"path": S(), "commit": HEX, "blob": HEX, "startLine": I(), "lines": arr(S()), "totalLines": I(), "hasMore": B},
                   ["path", "commit", "blob", "startLine", "lines", "totalLines", "hasMore"]),
  "PathPage": obj({"paths": arr(S()), "next": nullable(S())}, ["paths"]),
  "GrepResult": obj({"mode": S(enum=["files", "content", "count"]), "commit": HEX, "files": arr(S()),
                     "lines": arr(obj({"path": S(), "line": I(), "text": S(), "before": arr(S()), "after": arr(S())}, ["path", "line", "text", "before", "after"])),
                     "counts": arr(obj({"path": S(), "count": I()}, ["path", "count"])), "filesSearched": I(), "truncated": B},
                    ["mode", "commit", "files", "lines", "counts", "filesSearched", "truncated"]),
  "CommitInfo": obj({"id": HEX, "tree": HEX, "parents": arr(HEX), "author": S(), "onBehalfOf": nullable(S()), "actorKind": S(),
                     "runID": nullable(S()), "step": nullable(I()), "time": S(), "timeMillis": I(), "message": S(), "approvals": arr(HEX)},
                    ["id", "tree", "parents", "author", "actorKind", "time", "timeMillis", "message", "approvals"]),
  "LogPage": obj({"commits": arr(obj({"commit": ref("CommitInfo"), "change": nullable(S(enum=["added", "modified", "deleted"]))}, ["commit"])), "next": nullable(S())}, ["commits"]),
  "FileDiff": obj({"path": S(), "change": S(enum=["added", "modified", "deleted"]), "before": nullable(HEX), "after": nullable(HEX),
                   "json": nullable(arr(obj({"pointer": S(), "before": {}, "after": {}}, ["pointer"])))}, ["path", "change"]),
  "CommitDetail": obj({"commit": ref("CommitInfo"), "files": arr(ref("FileDiff"))}, ["commit", "files"]),
  "DiffResult": obj({"from": HEX, "to": HEX, "files": arr(ref("FileDiff")), "next": nullable(S())}, ["from", "to", "files"]),
  "BlameList": obj({"entries": arr(obj({"pointer": S(), "value": {}, "commit": HEX, "author": S(), "time": S(), "message": S()}, ["pointer", "value", "commit", "author", "time", "message"]))}, ["entries"]),
  "Branch": obj({"name": S(), "head": HEX}, ["name", "head"]),
  "BranchSummary": obj({"name": S(), "head": HEX, "author": nullable(S()), "created": nullable(S()), "trunk": S(), "ahead": I(), "behind": I(), "archived": B},
                       ["name", "head", "trunk", "ahead", "behind", "archived"]),
  "BranchList": obj({"branches": arr(ref("BranchSummary"))}, ["branches"]),
  "Project": obj({"name": S(), "created": S()}, ["name", "created"]),
  "ProjectList": obj({"projects": arr(ref("Project"))}, ["projects"]),
  "Org": obj({"name": S(), "created": S()}, ["name", "created"]),
  "WhoAmI": obj({"subject": S(), "kind": S(), "groups": arr(S()), "credential": S(), "organization": S(), "onBehalfOf": nullable(S())},
                ["subject", "kind", "groups", "credential", "organization"]),
  "Authority": S(enum=["read", "write", "delete", "run", "solve", "approve", "share", "configure"]),
  "Role": obj({"name": S(), "authorities": arr(ref("Authority")), "description": nullable(S())}, ["name", "authorities"]),
  "RoleList": obj({"roles": arr(ref("Role"))}, ["roles"]),
  "Target": {"oneOf": [
      obj({"kind": S(const="organization")}, ["kind"]),
      obj({"kind": S(const="project"), "project": S()}, ["kind", "project"]),
      obj({"kind": S(const="branch"), "project": S(), "branch": S()}, ["kind", "project", "branch"]),
      obj({"kind": S(const="path"), "project": S(), "glob": S()}, ["kind", "project", "glob"])]},
  "TargetIn": {"oneOf": [
      obj({"kind": S(const="organization")}, ["kind"]),
      obj({"kind": S(const="project"), "project": PROJECT_NAME}, ["kind", "project"]),
      obj({"kind": S(const="branch"), "project": PROJECT_NAME, "branch": BRANCH}, ["kind", "project", "branch"]),
      obj({"kind": S(const="path"), "project": PROJECT_NAME, "glob": GLOB}, ["kind", "project", "glob"])]},
  "Grant": obj({"id": S(), "subject": S(), "role": S(), "target": ref("Target"), "effect": S(enum=["allow", "deny"]), "shadow": B, "replaces": S()},
               ["id", "subject", "role", "target", "effect"]),
  "GrantList": obj({"grants": arr(ref("Grant"))}, ["grants"]),
  "Member": obj({"subject": S(), "roles": arr(S())}, ["subject", "roles"]),
  "MemberList": obj({"members": arr(ref("Member"))}, ["members"]),
  "Key": obj({"id": S(), "kind": S(enum=["user", "agent", "service"]), "subject": S(), "role": S(), "project": nullable(S()), "path": nullable(S()),
              "expiresAt": nullable(S()), "createdBy": S(), "createdAt": S(), "revokedAt": nullable(S()), "description": nullable(S()), "secretHash": S()},
             ["id", "kind", "subject", "role", "createdBy", "createdAt", "secretHash"]),
  "KeyList": obj({"keys": arr(ref("Key"))}, ["keys"]),
  "MintedKey": obj({"key": ref("Key"), "token": S()}, ["key", "token"]),
  "Identity": obj({"issuer": S(), "jwksURL": nullable(S()), "audience": S(), "userClaim": S(), "groupsClaim": S(), "clockSkewSeconds": I()},
                  ["issuer", "audience", "userClaim", "groupsClaim", "clockSkewSeconds"]),
  "IdentityDoc": obj({"identity": nullable(ref("Identity"))}),
  "AccessSnapshot": obj({"configCommit": HEX, "time": S(), "roles": arr(ref("Role")), "grants": arr(ref("Grant"))}, ["configCommit", "time", "roles", "grants"]),
  "Evaluation": obj({"decision": B, "context": obj({"rule": S(), "reason": S(), "configCommit": HEX}, ["rule", "reason", "configCommit"])}, ["decision", "context"]),
  "FeedReady": obj({"project": S(), "branches": arr(ref("Branch"))}, ["project", "branches"]),
  "ChangeEvent": obj({"project": S(), "branch": S(), "commit": nullable(HEX), "paths": arr(S()), "actor": S(), "action": S(), "time": S(),
                      "mergeRequest": I(), "approval": S(), "run": S(), "call": I(), "tool": S(), "outcome": S(),
                      "solve": S(), "progress": obj({"seconds": {"type": "number"}, "incumbent": {"type": "number"}, "bound": {"type": "number"},
                                                     "gap": {"type": "number"}}, ["seconds"])},
                     ["project", "branch", "paths", "actor", "action", "time"]),
  "FeedEvent": {"type": "object", "description": "One server-sent event; `data` is JSON: FeedReady for `ready`, ChangeEvent for `change`.",
                "properties": {"event": S(enum=["ready", "change"]), "data": S(contentMediaType="application/json",
                               contentSchema={"oneOf": [ref("FeedReady"), ref("ChangeEvent")]}), "id": S(), "retry": I()},
                "required": ["event", "data"]},
  "FileConflict": obj({"path": S(), "kind": S(enum=["json", "whole"]),
                       "hunks": arr(obj({"pointer": S(), "base": {}, "ours": {}, "theirs": {}}, ["pointer"]))}, ["path", "kind", "hunks"]),
  "MergeResult": obj({"status": S(enum=["merged", "conflicts"]), "base": HEX, "outcome": ref("Outcome"), "conflicts": arr(ref("FileConflict")),
                      "ours": HEX, "theirs": HEX}, ["status", "base"]),
  "Review": obj({"id": S(), "reviewer": S(), "verdict": S(enum=["approve", "request_changes", "reject"]), "rationale": S(), "commit": HEX, "time": S()},
                ["id", "reviewer", "verdict", "rationale", "commit", "time"]),
  "Comment": obj({"author": S(), "body": S(), "path": S(), "time": S()}, ["author", "body", "time"]),
  "MergeRequest": obj({"number": I(), "project": S(), "source": S(), "target": S(), "title": S(), "description": S(), "author": S(), "created": S(),
                       "state": S(enum=["open", "merged", "closed"]), "reviews": arr(ref("Review")), "comments": arr(ref("Comment")),
                       "attempt": obj({"base": HEX, "ours": HEX, "theirs": HEX, "conflicts": arr(ref("FileConflict")), "by": S(), "time": S()},
                                      ["base", "ours", "theirs", "conflicts", "by", "time"]),
                       "resolutions": {"type": "object"}, "mergeCommit": HEX, "mergeBase": HEX, "mergedHead": HEX, "closedBy": S(), "updated": S(), "origin": S()},
                      ["number", "project", "source", "target", "title", "author", "created", "state", "reviews", "comments", "resolutions", "updated"]),
  "MergeRequestView": obj({"request": ref("MergeRequest"), "status": S(enum=["open", "approved", "merged", "closed"]), "sourceHead": HEX, "approvals": I(),
                           "requiredApprovals": I(), "voided": I(), "sourceAuthors": arr(S()), "unresolved": I()},
                          ["request", "status", "approvals", "requiredApprovals", "voided", "sourceAuthors", "unresolved"]),
  "MergeRequestPage": obj({"mergeRequests": arr(ref("MergeRequestView")), "next": nullable(S())}, ["mergeRequests"]),
  "MergeRequestDiff": obj({"base": HEX, "head": HEX, "entities": arr(obj({"path": S(), "change": S(enum=["added", "modified", "removed", "moved"]), "members": arr(S())},
                                                                          ["path", "change"])), "next": nullable(S())}, ["base", "head", "entities"]),
  "MergeRequestMerge": obj({"status": S(enum=["merged", "conflicts"]), "mergeRequest": ref("MergeRequestView"), "outcome": ref("Outcome")}, ["status", "mergeRequest"]),
  "Operation": S(enum=["branch.delete", "access", "share", "ontology", "workflow"]),
  "ApprovalSettings": obj({"operations": arr(ref("Operation")), "requiredApprovals": I(minimum=1, maximum=20)}, ["operations", "requiredApprovals"]),
  "PendingApproval": obj({"id": S(), "operation": S(enum=["branch.delete", "access", "share", "ontology", "workflow", "workflow.step"]), "action": S(), "summary": S(), "project": S(), "branch": S(),
                          "changes": arr(obj({"op": S(), "path": S(), "contentBase64": S()}, ["op", "path"])), "base": HEX, "requester": S(), "requesterKind": S(),
                          "onBehalfOf": S(), "reason": S(), "detail": {"type": "object", "additionalProperties": S()}, "created": S(), "requiredApprovals": I(),
                          "state": S(enum=["pending", "applied", "rejected", "failed"]),
                          "decisions": arr(obj({"id": S(), "approver": S(), "verdict": S(enum=["approve", "reject"]), "rationale": S(), "time": S()},
                                               ["id", "approver", "verdict", "rationale", "time"])),
                          "commit": S(), "error": S(), "updated": S(), "expires": S()},
                         ["id", "operation", "action", "summary", "branch", "base", "requester", "requesterKind", "created", "requiredApprovals", "state", "decisions", "updated"]),
  "Pending": obj({"status": S(const="pending"), "approval": ref("PendingApproval")}, ["status", "approval"]),
  "ApprovalPage": obj({"approvals": arr(ref("PendingApproval")), "next": nullable(S())}, ["approvals"]),
  "ShadowReport": obj({"shadowGrants": arr(ref("Grant")),
                       "differences": arr(obj({"seq": I(), "time": S(), "subject": S(), "action": S(), "authority": S(), "project": S(), "branch": S(), "path": S(),
                                               "enforced": S(enum=["allow", "deny"]), "shadow": S(enum=["allow", "deny"]), "enforcedRule": S(), "shadowRule": S()},
                                              ["seq", "time", "subject", "action", "authority", "enforced", "shadow", "enforcedRule", "shadowRule"])),
                       "byRule": {"type": "object", "additionalProperties": I()}, "next": nullable(S())}, ["shadowGrants", "differences", "byRule"]),
  "MigrationReport": obj({"entities": I(), "violations": arr(ref("Violation")), "defaulted": {"type": "object", "additionalProperties": arr(S())},
                          "accepted": B}, ["entities", "violations", "defaulted", "accepted"]),
  "OntologyResult": obj({"outcome": ref("Outcome"), "report": ref("MigrationReport")}, ["outcome", "report"]),
  "ViolationReport": obj({"commit": HEX, "entities": I(), "violations": arr(ref("Violation")), "byConstraint": {"type": "object", "additionalProperties": I()},
                          "next": nullable(S())}, ["commit", "entities", "violations", "byConstraint"]),
  "RunResult": obj({"function": S(), "commit": HEX, "inputs": arr(obj({"path": S(), "blob": HEX}, ["path", "blob"])), "result": {},
                    "roads": obj({"id": HEX, "glob": S(), "files": I()}, ["id", "glob", "files"]),
                    "output": ref("Outcome")}, ["function", "commit", "inputs", "result"]),
  "SolveResult": obj({"status": S(enum=["optimal", "feasible", "infeasible", "unbounded", "time_limit", "cancelled", "error"]),
                      "objective": {"type": "number"}, "bestBound": {"type": "number"}, "gap": {"type": "number"},
                      "values": {"type": "object", "additionalProperties": {"type": "number"}}, "binding": arr({"type": "object"}),
                      "duals": {"type": "object", "additionalProperties": {"type": "number"}},
                      "reducedCosts": {"type": "object", "additionalProperties": {"type": "number"}}, "drivers": arr({"type": "object"}),
                      "solveTime": {"type": "number"}, "solver": S(), "message": S(), "detail": {"type": "object"},
                      "progress": arr(obj({"seconds": {"type": "number"}, "incumbent": {"type": "number"}, "bound": {"type": "number"},
                                           "gap": {"type": "number"}}, ["seconds"]))},
                     ["status", "values", "binding", "drivers", "solveTime", "solver"]),
  "SolveResponse": obj({"kind": S(), "commit": HEX, "inputs": arr(obj({"path": S(), "blob": HEX}, ["path", "blob"])), "result": ref("SolveResult"),
                        "routes": {"type": "object"}, "assignments": {"type": "object", "additionalProperties": S()}, "folder": S(),
                        "output": ref("Outcome")}, ["kind", "commit", "inputs", "result"]),
  "RunningSolves": obj({"solves": arr(obj({"id": S(), "kind": S(), "project": S(), "principal": S(), "started": S()},
                                          ["id", "kind", "project", "principal", "started"]))}, ["solves"]),
  "AgentRun": obj({"id": S(), "project": S(), "agent": S(), "credential": S(), "onBehalfOf": S(), "target": S(), "branch": S(), "base": HEX,
                   "status": S(enum=["running", "awaiting_approval", "merged", "completed", "conflicts", "failed", "rolled_back", "interrupted", "discarded"]), "started": S(), "finished": S(),
                   "calls": arr(obj({"seq": I(), "tool": S(), "arguments": {}, "decision": S(enum=["allowed", "denied"]),
                                     "reads": arr(obj({"path": S(), "blob": HEX}, ["path", "blob"])), "readAt": HEX, "commits": arr(HEX),
                                     "summary": S(), "result": S(), "error": S(), "milliseconds": {"type": "number"}, "at": S()},
                                    ["seq", "tool", "arguments", "decision", "reads", "commits", "summary", "milliseconds", "at"])),
                   "mergeRequest": I(), "mergeCommit": HEX, "head": HEX, "rollbackCommit": HEX, "message": S(), "parent": S(), "workflow": S()},
                  ["id", "project", "agent", "target", "branch", "base", "status", "started", "calls"]),
  "AgentRunPage": obj({"runs": arr(ref("AgentRun")), "next": nullable(S())}, ["runs"]),
  "WorkflowState": obj({"project": S(), "workflow": S(), "enabled": B, "paused": B, "enabledBy": S(), "enabledLocally": B, "enabledAt": S(),
                        "scheduled": {"type": "object", "additionalProperties": I()}, "watermarks": {"type": "object", "additionalProperties": HEX}},
                       ["project", "workflow", "enabled", "paused", "enabledLocally", "scheduled"]),
  "Workflow": obj({"name": S(), "definition": {"type": "object"}, "state": ref("WorkflowState")}, ["name", "state"]),
  "WorkflowPage": obj({"workflows": arr(ref("Workflow")), "next": nullable(S())}, ["workflows"]),
  "WorkflowRun": obj({"id": S(), "project": S(), "workflow": S(),
                      "trigger": obj({"kind": S(enum=["manual", "cron", "path", "mergeRequest", "workflow"]), "by": S(), "scheduledFor": S(),
                                      "paths": arr(S()), "commits": arr(HEX), "mergeRequest": I(), "event": S(), "run": S(), "outcome": S()}, ["kind"]),
                      "depth": I(minimum=0), "approval": S(), "resumeAt": I(), "context": {"type": "object"}, "earlier": arr(S()),
                      "inputs": {"type": "object"}, "status": S(enum=["fired", "running", "succeeded", "failed", "cancelled", "skipped", "paused"]),
                      "definition": HEX, "claimed": I(), "run": S(), "failure": S(), "outcome": S(), "mergeCommit": HEX, "mergeRequest": I(),
                      "steps": arr(obj({"id": S(), "kind": S(), "outcome": S(enum=["succeeded", "failed", "skipped"]), "attempts": I(),
                                        "calls": arr(I()), "error": S(), "commits": arr(HEX)}, ["id", "kind", "outcome", "attempts", "calls", "commits"])),
                      "created": S(), "finished": S()},
                     ["id", "project", "workflow", "trigger", "inputs", "status", "steps", "created"]),
  "WorkflowRunPage": obj({"runs": arr(ref("WorkflowRun")), "next": nullable(S())}, ["runs"]),
  "AuditItem": obj({"seq": I(), "hash": HEX, "previousHash": HEX, "record": {"type": "object"}}, ["seq", "hash", "previousHash", "record"]),
  "AuditPage": obj({"entries": arr(ref("AuditItem")), "next": nullable(S())}, ["entries"]),
}

def proposed():
    return {"202": {"description": "a protected branch made the write a merge request (Outcome.mergeRequest), or it waits in the approval queue (Pending)",
                    "content": {"application/json": {"schema": {"oneOf": [ref("Outcome"), ref("Pending")]}}}}}
def pending():
    return {"202": {"description": "the organization gates this operation: it waits in the approval queue, nothing applied",
                    "content": {"application/json": {"schema": ref("Pending")}}}}

def err(*codes):
    return {str(c): {"description": "error", "content": {"application/json": {"schema": ref("Error")}}} for c in codes}
def ok(schema, code=200, ctype="application/json"):
    return {str(code): {"description": "success", "content": {ctype: {"schema": schema}}}}
def q(name, schema=None, required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema or S()}
def p(name, schema=None):
    return {"name": name, "in": "path", "required": True, "schema": schema or S(minLength=1)}
def body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}
def inp(props, required=()):
    """A request object: an optional field may also be null (the server reads null as absent)."""
    return obj({k: (v if k in required else nullable(v)) for k, v in props.items()}, required)

AUTH = (400, 401, 404, 413, 429)
READ = AUTH + (403, 422, 503)
WRITE = AUTH + (403, 409, 422)
ORG, PROJ, PATH = p("org", S(pattern="^[a-z0-9][a-z0-9._-]{0,63}$")), p("project", PROJECT_NAME), p("path", FILE_PATH)
REF = q("ref", REF_S)
WF_NAME = p("name", S(pattern="^[A-Za-z0-9_-]{1,64}$"))
OGC_F = q("f", S(enum=["json", "geojson"]))
OGC_DATETIME = q("datetime", S(format="date-time", description="A Cairn extension: the collection as it was at this instant (as-of), not a filter on a feature's own time"))
OGC_COLLECTION = p("collection", S(minLength=1, maxLength=200))
MRN = p("number", I(minimum=1, maximum=99999999))
RESOLUTIONS = {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"oneOf": [
    obj({"use": S(enum=["ours", "theirs"])}, ["use"]), obj({"value": {}}, ["value"])]}}}
paths = {
  "/healthz": {"get": {"operationId": "health", "security": [], "responses": ok(obj({"status": S()}, ["status"]))}},
  "/metrics": {"get": {"operationId": "metrics", "security": [], "responses": ok(S(), ctype="text/plain")}},
  "/v1/openapi.json": {"get": {"operationId": "openapi", "security": [], "responses": ok({"type": "object"})}},
  "/v1/orgs/{org}": {"parameters": [ORG], "get": {"operationId": "getOrg", "responses": {**ok(ref("Org")), **err(*AUTH)}}},
  "/v1/orgs/{org}/whoami": {"parameters": [ORG], "get": {"operationId": "whoami", "responses": {**ok(ref("WhoAmI")), **err(*AUTH)}}},
  "/v1/orgs/{org}/projects": {"parameters": [ORG],
      "get": {"operationId": "listProjects", "responses": {**ok(ref("ProjectList")), **err(*AUTH, 403)}},
      "post": {"operationId": "createProject", "requestBody": body(inp({"name": PROJECT_NAME}, ["name"])), "responses": {**ok(ref("Project"), 201), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/files/{path}": {"parameters": [ORG, PROJ, PATH],
      "get": {"operationId": "readFile", "parameters": [REF, q("offset", I(minimum=1)), q("limit", I(minimum=1, maximum=100000)), q("raw", B)],
              "responses": {**ok(ref("FileLines")), "200": {"description": "the file's lines, or its bytes with raw=true",
                  "content": {"application/json": {"schema": ref("FileLines")}, "application/octet-stream": {"schema": S()}}}, **err(*READ)}},
      "put": {"operationId": "writeFile", "requestBody": body(inp({"content": S(), "branch": BRANCH, "message": S(), "basedOn": HEX}, ["content"])),
              "responses": {**ok(ref("Outcome")), **proposed(), **err(*WRITE)}},
      "patch": {"operationId": "editFile", "requestBody": body(inp({"old": S(minLength=1), "new": S(), "replaceAll": B, "branch": BRANCH, "message": S()}, ["old", "new"])),
                "responses": {**ok(ref("Outcome")), **proposed(), **err(*WRITE)}},
      "delete": {"operationId": "deleteFile", "parameters": [q("branch", BRANCH), q("message")], "responses": {**ok(ref("Outcome")), **proposed(), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/glob": {"parameters": [ORG, PROJ],
      "get": {"operationId": "glob", "parameters": [q("pattern", GLOB, required=True), REF, q("limit", I(minimum=1, maximum=10000)), q("cursor")],
              "responses": {**ok(ref("PathPage")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/grep": {"parameters": [ORG, PROJ],
      "get": {"operationId": "grep", "parameters": [q("pattern", S(minLength=1, maxLength=1024), required=True), q("glob", GLOB), q("mode", S(enum=["files", "content", "count"])), q("ignoreCase", B),
                                                     q("context", I(minimum=0, maximum=100)), q("headLimit", I(minimum=1, maximum=100000)), REF],
              "responses": {**ok(ref("GrepResult")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/commits": {"parameters": [ORG, PROJ],
      "get": {"operationId": "log", "parameters": [REF, q("path", FILE_PATH), q("limit", I(minimum=1, maximum=1000)), q("cursor")], "responses": {**ok(ref("LogPage")), **err(*READ)}},
      "post": {"operationId": "commit", "requestBody": body(inp({
                  "changes": {**arr(inp({"op": S(enum=["write", "edit", "delete"]), "path": FILE_PATH, "content": S(), "old": S(minLength=1), "new": S(), "replaceAll": B}, ["op", "path"])), "minItems": 1},
                  "branch": BRANCH, "message": S(), "basedOn": HEX}, ["changes"])),
               "responses": {**ok(ref("Outcome")), **proposed(), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/commits/{ref}": {"parameters": [ORG, PROJ, p("ref", REF_S)],
      "get": {"operationId": "showCommit", "responses": {**ok(ref("CommitDetail")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/diff": {"parameters": [ORG, PROJ],
      "get": {"operationId": "diff", "parameters": [q("from", REF_S, required=True), q("to", REF_S), q("limit", I(minimum=1, maximum=10000)), q("cursor")],
              "responses": {**ok(ref("DiffResult")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/blame/{path}": {"parameters": [ORG, PROJ, PATH],
      "get": {"operationId": "blame", "parameters": [REF], "responses": {**ok(ref("BlameList")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/revert": {"parameters": [ORG, PROJ],
      "post": {"operationId": "revert", "requestBody": body(inp({"commit": REF_S, "branch": BRANCH, "message": S()}, ["commit"])),
               "responses": {**ok(ref("Outcome")), **proposed(), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/merges": {"parameters": [ORG, PROJ],
      "post": {"operationId": "merge",
               "description": "Merge branch `source` into `target` (main by default) at their merge base. Answers `merged` with the commit, or `conflicts` with each file's hunks (base, ours, theirs; an absent side is missing) and writes nothing. Send again with `resolutions` (path → pointer → {use: ours|theirs} or {value: V}) to settle them.",
               "requestBody": body(inp({"source": BRANCH, "target": BRANCH, "message": S(),
                                        "resolutions": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"oneOf": [
                                            obj({"use": S(enum=["ours", "theirs"])}, ["use"]), obj({"value": {}}, ["value"])]}}}}, ["source"])),
               "responses": {**ok(ref("MergeResult")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/branches": {"parameters": [ORG, PROJ],
      "get": {"operationId": "listBranches", "responses": {**ok(ref("BranchList")), **err(*READ)}},
      "post": {"operationId": "createBranch", "requestBody": body(inp({"name": BRANCH, "from": REF_S, "message": S()}, ["name"])),
               "responses": {**ok(ref("Branch"), 201), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/branches/{branch}": {"parameters": [ORG, PROJ, p("branch", BRANCH)],
      "delete": {"operationId": "deleteBranch", "responses": {"204": {"description": "deleted"}, **pending(), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/branches/{branch}/archive": {"parameters": [ORG, PROJ, p("branch", BRANCH)],
      "post": {"operationId": "archiveBranch", "description": "Archive a branch (needs `delete`): it becomes `archive/NAME`, read-only, with its history and ref log.",
               "requestBody": {"required": False, "content": {"application/json": {"schema": inp({"message": S()})}}},
               "responses": {**ok(ref("Branch")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/merge-requests": {"parameters": [ORG, PROJ],
      "get": {"operationId": "listMergeRequests", "parameters": [q("state", S(enum=["open", "merged", "closed"])), q("limit", I(minimum=1, maximum=500)), q("cursor")],
              "responses": {**ok(ref("MergeRequestPage")), **err(*READ)}},
      "post": {"operationId": "openMergeRequest", "requestBody": body(inp({"source": BRANCH, "target": BRANCH, "title": S(minLength=1, maxLength=300, pattern="\\S"), "description": S(maxLength=65536)}, ["source", "title"])),
               "responses": {**ok(ref("MergeRequestView"), 201), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/merge-requests/{number}": {"parameters": [ORG, PROJ, MRN],
      "get": {"operationId": "getMergeRequest", "responses": {**ok(ref("MergeRequestView")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/merge-requests/{number}/diff": {"parameters": [ORG, PROJ, MRN],
      "get": {"operationId": "mergeRequestDiff", "description": "Entity by entity, from the merge base to the source head: added, modified, removed, or moved (a GeoJSON geometry changed).",
              "parameters": [q("limit", I(minimum=1, maximum=10000)), q("cursor")], "responses": {**ok(ref("MergeRequestDiff")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/merge-requests/{number}/comments": {"parameters": [ORG, PROJ, MRN],
      "post": {"operationId": "commentMergeRequest", "requestBody": body(inp({"body": S(minLength=1, maxLength=65536, pattern="\\S"), "path": FILE_PATH}, ["body"])),
               "responses": {**ok(ref("MergeRequestView")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/merge-requests/{number}/reviews": {"parameters": [ORG, PROJ, MRN],
      "post": {"operationId": "reviewMergeRequest", "description": "Approve, request changes or reject, with a rationale; bound to the source head now. With `head` (the source head the reviewer was shown), refused with 409 `stale` when the source has moved on since. Needs `approve` on the target; never by an author of the source's changes, and an agent cannot approve.",
               "requestBody": body(inp({"verdict": S(enum=["approve", "request_changes", "reject"]), "rationale": S(minLength=1, maxLength=65536, pattern="\\S"), "head": S(pattern="^[0-9a-f]{64}$")}, ["verdict", "rationale"])),
               "responses": {**ok(ref("MergeRequestView")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/merge-requests/{number}/merge": {"parameters": [ORG, PROJ, MRN],
      "post": {"operationId": "mergeMergeRequest", "description": "Merge the source head the approvals were given at. Conflicts are kept with the request (`attempt`); send `resolutions` to settle them.",
               "requestBody": body(inp({"message": S(), "resolutions": RESOLUTIONS})),
               "responses": {**ok(ref("MergeRequestMerge")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/merge-requests/{number}/close": {"parameters": [ORG, PROJ, MRN],
      "post": {"operationId": "closeMergeRequest", "requestBody": body(inp({"message": S()})), "responses": {**ok(ref("MergeRequestView")), **err(*WRITE)}}},
  "/v1/orgs/{org}/approvals": {"parameters": [ORG],
      "get": {"operationId": "listApprovals", "description": "The approval queue as the caller may see it: what they asked for and what they may decide.",
              "parameters": [q("state", S(enum=["pending", "applied", "rejected", "failed"])), q("limit", I(minimum=1, maximum=500)), q("cursor")],
              "responses": {**ok(ref("ApprovalPage")), **err(*READ)}}},
  "/v1/orgs/{org}/approvals/{id}": {"parameters": [ORG, p("id", S(pattern="^[0-9a-f]{16}$"))],
      "get": {"operationId": "getApproval", "responses": {**ok(ref("PendingApproval")), **err(*READ)}}},
  "/v1/orgs/{org}/approvals/{id}/decisions": {"parameters": [ORG, p("id", S(pattern="^[0-9a-f]{16}$"))],
      "post": {"operationId": "decideApproval", "description": "Approve or reject with a rationale (needs `approve`; never the requester, never an agent). With enough approvals the change applies at the state it was asked against, or the request fails as stale.",
               "requestBody": body(inp({"verdict": S(enum=["approve", "reject"]), "rationale": S(minLength=1, maxLength=65536, pattern="\\S")}, ["verdict", "rationale"])),
               "responses": {**ok(ref("PendingApproval")), **err(*WRITE)}}},
  "/v1/orgs/{org}/approval-settings": {"parameters": [ORG],
      "get": {"operationId": "getApprovalSettings", "responses": {**ok(ref("ApprovalSettings")), **err(*READ)}},
      "put": {"operationId": "putApprovalSettings", "requestBody": body(inp({"operations": arr(ref("Operation")), "requiredApprovals": I(minimum=1, maximum=20)})),
              "responses": {**ok(ref("ApprovalSettings")), **pending(), **err(*WRITE)}}},
  "/v1/orgs/{org}/access/shadow-report": {"parameters": [ORG],
      "get": {"operationId": "shadowReport", "description": "Requests where the enforced rules and the shadow grants decided differently.",
              "parameters": [q("since", TIME), q("limit", I(minimum=1, maximum=1000)), q("cursor")], "responses": {**ok(ref("ShadowReport")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ontology": {"parameters": [ORG, PROJ],
      "get": {"operationId": "getOntology", "description": "The project's ontology document (`.cairn/ontology.json`) at `ref`.",
              "parameters": [REF], "responses": {**ok({"type": "object"}), **err(*READ)}},
      "put": {"operationId": "putOntology",
              "description": "Set the ontology (needs `configure`): it is checked itself (422 invalid_ontology), then against every existing entity. Violations refuse it (422 validation_failed, listing each) unless `acceptViolations`, which records them with the change.",
              "requestBody": body(inp({"ontology": {"type": "object"}, "branch": BRANCH, "message": S(), "acceptViolations": B}, ["ontology"])),
              "responses": {**ok(ref("OntologyResult")), **proposed(), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/ontology/check": {"parameters": [ORG, PROJ],
      "post": {"operationId": "checkOntology", "description": "What setting this ontology would do (violations, defaults), without doing it.",
               "requestBody": body(inp({"ontology": {"type": "object"}, "ref": REF_S}, ["ontology"])),
               "responses": {**ok(ref("MigrationReport")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/violations": {"parameters": [ORG, PROJ],
      "get": {"operationId": "violations", "description": "Every entity violating the ontology at `ref`, per constraint; pages end at an entity boundary.",
              "parameters": [REF, q("limit", I(minimum=1, maximum=100000)), q("cursor")], "responses": {**ok(ref("ViolationReport")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/run": {"parameters": [ORG, PROJ],
      "post": {"operationId": "run",
               "description": "Run a deterministic geo-math function (needs `run`) at `ref`: distance (haversine and WGS84 geodesic between points), length of LineStrings (both), area (geodesic, of Polygons), centroid, bbox, contains (points in polygons), nearest (the nearest of the input features to each point), snap (points to the nearest road position: distance, road, offset and fraction along it), route (through points, from their exact snapped positions, by distance or time, respecting oneway), isochrone (reachable network within a budget, with its convex hull), routes (a batch of up to 10,000 `pairs` [origin, destination]: each leg's length and time, or reachable false), matrix (the cost from every point to every one of `destinations`, or of the points themselves: at most 250,000 cells, null where unreachable). A point exactly on a road node is that node, with every road meeting there open. Roads are GeoJSON LineString files with OSM tags matched by `roads` (default roads/**), named in the answer by one content id (`roads.id`); with provenance `full` each road file is also listed in `inputs`. With `output`, the result and its provenance are also written there.",
               "requestBody": body(inp({**RUN_FIELDS, "ref": REF_S, "message": S()}, ["function"])),
               "responses": {**ok(ref("RunResult")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/solve": {"parameters": [ORG, PROJ],
      "post": {"operationId": "solve",
               "description": "Solve an optimization problem (needs `solve`) at `ref` on a local solver, answered in one shape (status, objective, best bound and gap, values, binding constraints, LP duals, the objective's drivers, solve time). `linear`: an LP or MIP from `input` (a .json, .lp or .mps file) or inline `model` (Cairn's JSON form, or LP/MPS text with `format`). `solver` auto (the default) solves a JSON model with integer variables (and facility_location, crew_assignment) with CBC in a worker process, proving optimality, with its progress (incumbent, bound, gap over time) in the result and as `solve.progress` events on the feed; a linear program and LP/MPS text with GLPK (duals, reduced costs); `glpk` or `cbc` choose. `routing`: vehicle routing with capacities, time windows, service times and route durations, from a model with its cost matrix or from Point files (`depots`, `stops`), with costs along `roads` or geodesic; a ruin-and-recreate search, deterministic for `seed` and `iterations`. `facility_location`: which of the `depots` (facilities) serve which `stops` (customers), a MIP. `crew_assignment`: which crew (`depots`, with the minutes of its shift) takes which work order (`stops`, with `minutes` and `priority`), orders that do not fit left by priority, a MIP. With `id` it can be cancelled while it runs; with `output`, the model, the result with its provenance and the solver log are written to `output/<timestamp>/`.",
               "requestBody": body(inp({**SOLVE_FIELDS, "ref": REF_S, "id": SOLVE_ID, "message": S()}, ["kind"])),
               "responses": {**ok(ref("SolveResponse")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/export": {"parameters": [ORG, PROJ],
      "get": {"operationId": "exportFeatures",
              "description": "Every GeoJSON Feature file a glob matches (default `**`), at `ref` (or as of `datetime`), optionally only those meeting `bbox`, as one FeatureCollection (`f=geojson`, the default) or an RFC 8142 GeoJSON text sequence (`f=geojsonseq`), each feature's `id` its path. Streamed as it is read, with memory flat in the number of features; the commit read is in `X-Cairn-Commit`. A path-scoped key exports only its own features. Query parameters not listed are refused (400).",
              "parameters": [q("glob", S(minLength=1, maxLength=1024)), REF, OGC_DATETIME, q("bbox", S(description="west,south,east,north in CRS84 degrees")),
                             q("f", S(enum=["geojson", "geojsonseq"]))],
              "responses": {"200": {"description": "success", "content": {"application/geo+json": {"schema": {"type": "object"}},
                                                                          "application/geo+json-seq": {"schema": {"type": "string"}}}},
                            **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc": {"parameters": [ORG, PROJ],
      "get": {"operationId": "ogcLanding", "description": "OGC API – Features landing page of the project (needs `read`).",
              "parameters": [OGC_F], "responses": {**ok(ref("OGCLanding")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc/api": {"parameters": [ORG, PROJ],
      "get": {"operationId": "ogcAPI", "description": "The service's own description in OpenAPI 3.0 (what GDAL and QGIS read; this document is 3.1).",
              "parameters": [OGC_F], "responses": {**ok({"type": "object"}, ctype="application/vnd.oai.openapi+json;version=3.0"), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc/conformance": {"parameters": [ORG, PROJ],
      "get": {"operationId": "ogcConformance", "description": "The OGC API – Features conformance classes served: Part 1 Core, GeoJSON and OpenAPI 3.0, Part 2 (coordinate systems by reference), and Cairn's as-of extension (`datetime` reads the world as it was at that instant).",
              "parameters": [OGC_F], "responses": {**ok(ref("OGCConformance")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc/collections": {"parameters": [ORG, PROJ],
      "get": {"operationId": "ogcCollections", "description": "The collections at `ref`: the ontology's entity types with a path glob and a geometry, or without an ontology each top-level folder.",
              "parameters": [OGC_F, REF, OGC_DATETIME], "responses": {**ok(ref("OGCCollections")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc/collections/{collection}": {"parameters": [ORG, PROJ, OGC_COLLECTION],
      "get": {"operationId": "ogcCollection", "parameters": [OGC_F, REF, OGC_DATETIME], "responses": {**ok(ref("OGCCollection")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc/collections/{collection}/schema": {"parameters": [ORG, PROJ, OGC_COLLECTION],
      "get": {"operationId": "ogcSchema", "description": "A JSON Schema of the collection's features (GeoJSON-shaped): each property its features carry, with the JSON type they agree on (integers wider than 32 bits as `number`, so GDAL keeps them).",
              "parameters": [OGC_F, REF, OGC_DATETIME], "responses": {**ok({"type": "object"}, ctype="application/schema+json"), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc/collections/{collection}/items": {"parameters": [ORG, PROJ, OGC_COLLECTION],
      "get": {"operationId": "ogcItems",
              "description": "A page of the collection's features at `ref`, in path order, those whose bounding box meets `bbox` (in `bbox-crs`, default CRS84 degrees) and whose properties equal any other query parameter (`?status=planned`; a name that is no property of the collection is 400). Positions are in `crs` (one of the collection's `crs`, default CRS84; the answer's `Content-Crs` names it). Links carry the commit read: following `next` reads the same state, so pages never skip or repeat a feature while others write. `numberMatched` is the collection's count when no filter applies, and the spatial index's count when only `bbox` does.",
              "parameters": [OGC_F, REF, OGC_DATETIME, q("bbox", S(pattern="^\\s*-?[0-9.eE+-]+\\s*(,\\s*-?[0-9.eE+-]+\\s*){3}$")), q("bbox-crs", S()), q("crs", S()), q("limit", I(minimum=1, maximum=10000)), q("cursor")],
              "responses": {**ok(ref("GeoJSONFeatureCollection"), ctype="application/geo+json"), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc/collections/{collection}/cells": {"parameters": [ORG, PROJ, OGC_COLLECTION],
      "get": {"operationId": "ogcCells",
              "description": "A Cairn extension: how the collection's features meeting `bbox` (default: the collection's extent; CRS84 degrees) fall into a `columns` × `rows` grid laid over it, counted from the spatial index without reading a feature: what a map draws at low zoom instead of the features. Column 0 is the west, row 0 the south; only non-empty cells are listed, each with the mean centre of its features.",
              "parameters": [OGC_F, REF, OGC_DATETIME, q("bbox", S(pattern="^\\s*-?[0-9.eE+-]+\\s*(,\\s*-?[0-9.eE+-]+\\s*){3}$")), q("columns", I(minimum=1, maximum=256)), q("rows", I(minimum=1, maximum=256))],
              "responses": {**ok(ref("OGCCells")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/ogc/collections/{collection}/items/{path}": {"parameters": [ORG, PROJ, OGC_COLLECTION, PATH],
      "get": {"operationId": "ogcItem", "description": "One feature by its id, the file's path.",
              "parameters": [OGC_F, REF, OGC_DATETIME, q("crs", S())], "responses": {**ok(ref("GeoJSONFeature"), ctype="application/geo+json"), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/solves": {"parameters": [ORG, PROJ],
      "get": {"operationId": "listSolves", "description": "The solves running now in the project (needs `solve`).",
              "responses": {**ok(ref("RunningSolves")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/solves/{id}/cancel": {"parameters": [ORG, PROJ, p("id", S(pattern="^[A-Za-z0-9._-]{1,64}$"))],
      "post": {"operationId": "cancelSolve", "description": "Cancel a running solve: its solver stops at its next check and the solve answers with what it has (status `cancelled`, or `feasible` with the best solution found).",
               "responses": {**ok(obj({"cancelled": B}, ["cancelled"])), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/agent-runs": {"parameters": [ORG, PROJ],
      "get": {"operationId": "listAgentRuns", "description": "Agent runs (one per MCP session at /v1/mcp or `cairn mcp`), oldest first, each with every tool call in order: arguments, decision, what it read (path, blob, commit), the commits it made, a summary, timing, error; and the run's status.",
              "parameters": [q("limit", I(minimum=1, maximum=500)), q("cursor")], "responses": {**ok(ref("AgentRunPage")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/agent-runs/{id}": {"parameters": [ORG, PROJ, p("id", S(pattern="^[0-9a-z]{9}-[0-9a-f]{8}$"))],
      "get": {"operationId": "getAgentRun", "description": "One agent run's full record.", "responses": {**ok(ref("AgentRun")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/workflows": {"parameters": [ORG, PROJ],
      "get": {"operationId": "listWorkflows", "description": "The project's workflows (definitions under `.cairn/workflows/`), each with its definition and state (enabled, by whom, paused, schedule progress).",
              "parameters": [q("limit", I(minimum=1, maximum=1000)), q("cursor")], "responses": {**ok(ref("WorkflowPage")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/workflows/{name}": {"parameters": [ORG, PROJ, WF_NAME],
      "get": {"operationId": "getWorkflow", "description": "One workflow: its definition and state.", "responses": {**ok(ref("Workflow")), **err(*READ)}},
      "put": {"operationId": "putWorkflow",
              "description": "Write a workflow's definition (`.cairn/workflows/NAME.json`; needs `configure`). It is validated with every problem listed (422 `invalid_workflow`: unknown members, step kinds, missing steps or inputs in references, bad cron or time zone, bad globs). Writing never enables it. Gated by the approval queue when the organization gates `workflow`.",
              "requestBody": body(inp({"definition": {"type": "object"}, "branch": BRANCH, "message": S()}, ["definition"])),
              "responses": {**ok(ref("Outcome")), **proposed(), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/workflows/{name}/enable": {"parameters": [ORG, PROJ, WF_NAME],
      "post": {"operationId": "enableWorkflow", "description": "Enable a workflow (needs `configure`; a person only): its runs act within its scope and, at every call, within the authority of the person who enabled it. A scope wider than theirs is refused (403).",
               "requestBody": {"required": False, "content": {"application/json": {"schema": inp({"message": S()})}}},
               "responses": {**ok(ref("WorkflowState")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/workflows/{name}/disable": {"parameters": [ORG, PROJ, WF_NAME],
      "post": {"operationId": "disableWorkflow", "description": "Disable a workflow: nothing fires, and runs in progress stop before their next step, by the failure policy.",
               "requestBody": {"required": False, "content": {"application/json": {"schema": inp({"message": S()})}}},
               "responses": {**ok(ref("WorkflowState")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/workflows/{name}/pause": {"parameters": [ORG, PROJ, WF_NAME],
      "post": {"operationId": "pauseWorkflow", "description": "Pause a workflow's schedules: firings are recorded as skipped until it is resumed.",
               "requestBody": {"required": False, "content": {"application/json": {"schema": inp({"message": S()})}}},
               "responses": {**ok(ref("WorkflowState")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/workflows/{name}/resume": {"parameters": [ORG, PROJ, WF_NAME],
      "post": {"operationId": "resumeWorkflow", "description": "Resume a paused workflow's schedules from now.",
               "requestBody": {"required": False, "content": {"application/json": {"schema": inp({"message": S()})}}},
               "responses": {**ok(ref("WorkflowState")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/workflows/{name}/runs": {"parameters": [ORG, PROJ, WF_NAME],
      "get": {"operationId": "listWorkflowRuns", "description": "The workflow's runs, oldest first (those kept by its retention): trigger, inputs, each step's outcome, attempts, calls and commits, the failure, and what became of the changes.",
              "parameters": [q("limit", I(minimum=1, maximum=500)), q("cursor")], "responses": {**ok(ref("WorkflowRunPage")), **err(*READ)}},
      "post": {"operationId": "startWorkflowRun", "description": "Start a run by hand (needs `run`; the workflow must be enabled and have a manual trigger). The inputs are checked against the declared ones (400 naming each problem). Answers 202 with the recorded firing; the run proceeds in the background (follow it at runs/{id} or on the event feed).",
               "requestBody": {"required": False, "content": {"application/json": {"schema": inp({"inputs": {"type": "object"}, "message": S()})}}},
               "responses": {**ok(ref("WorkflowRun"), 202), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/workflows/{name}/runs/{id}": {"parameters": [ORG, PROJ, WF_NAME, p("id", S(pattern="^[0-9a-z]{9}-[0-9a-f]{8}$"))],
      "get": {"operationId": "getWorkflowRun", "description": "One run of a workflow.", "responses": {**ok(ref("WorkflowRun")), **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/workflows/{name}/runs/{id}/cancel": {"parameters": [ORG, PROJ, WF_NAME, p("id", S(pattern="^[0-9a-z]{9}-[0-9a-f]{8}$"))],
      "post": {"operationId": "cancelWorkflowRun", "description": "Cancel a run in progress on this server: it stops before its next step, by its failure policy.",
               "responses": {**ok(ref("WorkflowRun"), 202), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/lineage": {"parameters": [ORG, PROJ],
      "get": {"operationId": "lineage", "description": "Where the value at `pointer` in the JSON file `path` (at `ref`) came from: the commit that set it; if an agent set it, its run, the tool call, what the run had read before it, and the merge request (with its reviews) that admitted it.",
              "parameters": [q("path", FILE_PATH, required=True), q("pointer", S(pattern="^(/.*)?$"), required=True), REF],
              "responses": {**ok(obj({"path": S(), "pointer": S(), "value": {}, "commit": HEX, "author": S(), "time": S(), "message": S(), "run": S(), "agent": S(),
                                      "onBehalfOf": S(), "call": {"type": "object"}, "readBefore": arr(obj({"path": S(), "blob": HEX}, ["path", "blob"])),
                                      "mergeRequest": {"type": "object"},
                                      "workflow": obj({"workflow": S(), "run": S(), "trigger": {"type": "object"}, "step": S()}, ["workflow", "run", "trigger"])},
                                     ["path", "pointer", "value", "commit", "author", "time", "message", "readBefore"])),
                            **err(*READ)}}},
  "/v1/orgs/{org}/projects/{project}/agent-runs/{id}/replay": {"parameters": [ORG, PROJ, p("id", S(pattern="^[0-9a-z]{9}-[0-9a-f]{8}$"))],
      "post": {"operationId": "replayAgentRun", "description": "Re-execute a finished run's recorded calls, in order, as its agent's key stands now, on a scratch branch forked from the run's base (discarded after); call by call, whether the answer is identical, and which calls would now be denied (what-if under the current access rules).",
               "responses": {**ok(obj({"run": S(), "base": HEX, "identical": B, "wouldNowBeDenied": arr(I()),
                                       "steps": arr(obj({"seq": I(), "tool": S(), "recordedDecision": S(), "decisionNow": S(), "identical": B, "note": S()},
                                                        ["seq", "tool", "recordedDecision", "decisionNow", "identical"]))},
                                      ["run", "base", "identical", "wouldNowBeDenied", "steps"])), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/agent-runs/{id}/rollback": {"parameters": [ORG, PROJ, p("id", S(pattern="^[0-9a-z]{9}-[0-9a-f]{8}$"))],
      "post": {"operationId": "rollbackAgentRun", "description": "Undo a run: merged, every file it changed is put back as at its base in one governed commit on the target (409 `conflict` if one changed there since); not merged, its branch is discarded and its merge request closed.",
               "responses": {**ok(ref("AgentRun")), **err(*WRITE)}}},
  "/v1/orgs/{org}/projects/{project}/events": {"parameters": [ORG, PROJ],
      "get": {"operationId": "changeFeed", "description": "Server-sent events. First a `ready` event with the branch heads the caller may read (`{project, branches: [{name, head}]}`), then one `change` event per commit (project, branch, commit, paths, actor, action, time).",
              "responses": {**ok(ref("FeedEvent"), ctype="text/event-stream"), **err(*READ)}}},
  "/v1/orgs/{org}/roles": {"parameters": [ORG], "get": {"operationId": "listRoles", "responses": {**ok(ref("RoleList")), **err(*READ)}}},
  "/v1/orgs/{org}/roles/{name}": {"parameters": [ORG, p("name", ACCESS_NAME)],
      "put": {"operationId": "putRole", "requestBody": body(inp({"authorities": arr(ref("Authority")), "description": S()}, ["authorities"])),
              "responses": {**ok(ref("Role")), **pending(), **err(*WRITE)}},
      "delete": {"operationId": "deleteRole", "responses": {"204": {"description": "deleted"}, **pending(), **err(*WRITE)}}},
  "/v1/orgs/{org}/grants": {"parameters": [ORG], "get": {"operationId": "listGrants", "responses": {**ok(ref("GrantList")), **err(*READ)}}},
  "/v1/orgs/{org}/grants/{id}": {"parameters": [ORG, p("id", ACCESS_NAME)],
      "put": {"operationId": "putGrant", "requestBody": body(inp({"subject": SUBJECT, "role": ACCESS_NAME, "target": ref("TargetIn"), "effect": S(enum=["allow", "deny"]),
                                                                "shadow": B, "replaces": ACCESS_NAME}, ["subject", "role", "target"])),
              "responses": {**ok(ref("Grant")), **pending(), **err(*WRITE)}},
      "delete": {"operationId": "deleteGrant", "responses": {"204": {"description": "deleted"}, **pending(), **err(*WRITE)}}},
  "/v1/orgs/{org}/members": {"parameters": [ORG], "get": {"operationId": "listMembers", "responses": {**ok(ref("MemberList")), **err(*READ)}}},
  "/v1/orgs/{org}/members/{subject}": {"parameters": [ORG, p("subject", SUBJECT)],
      "put": {"operationId": "putMember", "requestBody": body(inp({"role": ACCESS_NAME}, ["role"])), "responses": {**ok(ref("Member")), **pending(), **err(*WRITE)}},
      "delete": {"operationId": "deleteMember", "responses": {"204": {"description": "removed"}, **pending(), **err(*WRITE)}}},
  "/v1/orgs/{org}/keys": {"parameters": [ORG],
      "get": {"operationId": "listKeys", "responses": {**ok(ref("KeyList")), **err(*READ)}},
      "post": {"operationId": "mintKey", "requestBody": body(inp({"kind": S(enum=["user", "agent", "service"]), "subject": SUBJECT, "role": ACCESS_NAME, "project": PROJECT_NAME, "path": GLOB,
                                                                   "expiresAt": TIME, "description": S()}, ["role"])),
               "responses": {**ok(ref("MintedKey"), 201), **err(*WRITE)}}},
  "/v1/orgs/{org}/keys/{id}": {"parameters": [ORG, p("id", S(pattern="^[0-9a-f]{16}$"))], "delete": {"operationId": "revokeKey", "responses": {**ok(ref("Key")), **err(*WRITE)}}},
  "/v1/orgs/{org}/identity": {"parameters": [ORG],
      "get": {"operationId": "getIdentity", "responses": {**ok(ref("IdentityDoc")), **err(*READ)}},
      "put": {"operationId": "putIdentity", "requestBody": body(inp({"issuer": WEB_URL, "jwksURL": WEB_URL, "audience": S(minLength=1), "userClaim": S(minLength=1), "groupsClaim": S(minLength=1),
                                                                     "clockSkewSeconds": I(minimum=0, maximum=600)}, ["issuer", "audience"])),
              "responses": {**ok(ref("Identity")), **pending(), **err(*WRITE)}}},
  "/v1/orgs/{org}/access": {"parameters": [ORG],
      "get": {"operationId": "accessAt", "description": "Roles and grants as they were at `at` (now by default): who could do what at time T.",
              "parameters": [q("at", TIME)], "responses": {**ok(ref("AccessSnapshot")), **err(*READ)}}},
  "/v1/orgs/{org}/access/v1/evaluation": {"parameters": [ORG],
      "post": {"operationId": "evaluate", "description": "OpenID AuthZEN access evaluation: may subject do action on resource?",
               "requestBody": body(obj({
                   "subject": obj({"type": S(), "id": S(), "properties": obj({"groups": arr(S())})}, ["type", "id"]),
                   "action": obj({"name": ref("Authority")}, ["name"]),
                   "resource": obj({"type": S(enum=["organization", "project", "branch", "path", "file"]), "id": S(),
                                    "properties": obj({"project": S(), "branch": S()})}, ["type", "id"]),
                   "context": obj({"time": S()})}, ["subject", "action", "resource"])),
               "responses": {**ok(ref("Evaluation")), **err(*READ)}}},
  "/v1/orgs/{org}/audit": {"parameters": [ORG],
      "get": {"operationId": "audit", "parameters": [q("actor"), q("action"), q("outcome"), q("path", GLOB), q("since", TIME), q("until", TIME),
                                                      q("limit", I(minimum=1, maximum=1000)), q("cursor")],
              "responses": {**ok(ref("AuditPage")), **err(*READ)}}},
  "/v1/orgs/{org}/audit/export": {"parameters": [ORG],
      "get": {"operationId": "auditExport", "description": "JSON Lines, one CloudEvents 1.0 event per entry.",
              "parameters": [q("actor"), q("action"), q("outcome"), q("path", GLOB), q("since", TIME), q("until", TIME)],
              "responses": {**ok(S(), ctype="application/x-ndjson"), **err(*READ)}}},
}
paths["/readyz"] = {"get": {"operationId": "ready", "security": [], "responses": {**ok(obj({"status": S()}, ["status"])),
                          "503": {"description": "not ready: the store does not answer or its schema is behind",
                                  "content": {"application/json": {"schema": obj({"status": S(), "reason": S(), "message": S()}, ["status"])}}}}}}
paths["/v1/docs"] = {"get": {"operationId": "docs", "security": [], "responses": ok(S(), ctype="text/html")}}

# Every operation has a tag (what it serves) and a one-line summary: the API page groups and
# lists them, and clients generated from the document name their methods after them.
SUMMARIES = {
    "health": "Is the process alive", "ready": "Is the server ready to serve (store reachable, schema current)", "metrics": "Prometheus metrics",
    "openapi": "This OpenAPI document", "docs": "The API reference page", "getOrg": "The organization", "whoami": "Who the credential acts as",
    "listProjects": "List the projects you may read", "createProject": "Create a project", "readFile": "Read a file at a ref",
    "writeFile": "Write a file (one commit)", "editFile": "Replace text in a file (one commit)", "deleteFile": "Delete a file or a glob of files",
    "glob": "List paths matching a glob", "grep": "Search file contents", "log": "List commits (or a file's history)", "commit": "Apply several changes as one commit",
    "showCommit": "One commit and the files it changed", "diff": "Files and JSON values changed between two refs", "blame": "The commit that set each JSON value of a file",
    "revert": "Undo a commit with a new commit", "merge": "Merge one branch into another", "listBranches": "List branches", "createBranch": "Create a branch",
    "deleteBranch": "Delete a branch", "archiveBranch": "Archive a branch (read-only, history kept)", "listMergeRequests": "List merge requests",
    "openMergeRequest": "Open a merge request", "getMergeRequest": "One merge request and its standing", "mergeRequestDiff": "A merge request's change, entity by entity",
    "commentMergeRequest": "Comment on a merge request", "reviewMergeRequest": "Approve, request changes or reject", "mergeMergeRequest": "Merge an approved request",
    "closeMergeRequest": "Close a merge request", "listApprovals": "List the approval queue", "getApproval": "One queued approval request",
    "decideApproval": "Approve or reject a queued request", "getApprovalSettings": "Which operations wait for approval", "putApprovalSettings": "Set which operations wait for approval",
    "shadowReport": "Decisions shadow grants would change", "getOntology": "The project's ontology", "putOntology": "Set the project's ontology",
    "checkOntology": "Check an ontology against the data without writing", "violations": "Every ontology violation at a ref", "run": "Compute geo-math on the files at a commit",
    "solve": "Solve an optimization problem", "listSolves": "Solves running now", "cancelSolve": "Cancel a running solve", "listAgentRuns": "List agent runs",
    "getAgentRun": "One agent run with every call", "lineage": "Trace a JSON value to the commit, run and approval behind it", "replayAgentRun": "Replay a finished run",
    "rollbackAgentRun": "Undo an agent run", "changeFeed": "Server-sent events of changes", "listRoles": "List roles", "putRole": "Create or change a role",
    "deleteRole": "Delete a role", "listGrants": "List grants", "putGrant": "Create or change a grant", "deleteGrant": "Delete a grant", "listMembers": "List members",
    "putMember": "Give a subject a role in the organization", "deleteMember": "Remove a member", "listKeys": "List API keys (never their secrets)",
    "mintKey": "Mint an API key (its token is shown once)", "revokeKey": "Revoke an API key", "getIdentity": "The identity provider settings",
    "putIdentity": "Set the identity provider (OIDC)", "accessAt": "Who could do what at a time", "evaluate": "May a subject do an action on a resource",
    "ogcLanding": "OGC API – Features: the landing page", "ogcConformance": "OGC API – Features: conformance classes",
    "ogcCollections": "OGC API – Features: the collections", "ogcCollection": "OGC API – Features: one collection",
    "ogcItems": "OGC API – Features: a page of features", "ogcCells": "Features counted per cell of a grid (for a map at low zoom)", "ogcItem": "OGC API – Features: one feature",
    "ogcSchema": "OGC API – Features: the schema of a collection's features", "ogcAPI": "OGC API – Features: the service's OpenAPI 3.0 document",
    "exportFeatures": "Export Feature files as GeoJSON", "listWorkflows": "List workflows", "getWorkflow": "One workflow", "putWorkflow": "Define a workflow", "enableWorkflow": "Enable a workflow",
    "disableWorkflow": "Disable a workflow", "pauseWorkflow": "Pause a workflow's schedules", "resumeWorkflow": "Resume a workflow's schedules",
    "listWorkflowRuns": "List a workflow's runs", "startWorkflowRun": "Start a workflow run", "getWorkflowRun": "One workflow run",
    "cancelWorkflowRun": "Cancel a workflow run",
    "audit": "Query the audit log", "auditExport": "Export the audit log as CloudEvents",
}
TAGS = [("server", "The server itself: health, readiness, metrics, this document."), ("files", "Files and their contents: read, write, edit, delete, glob, grep."),
        ("history", "Commits, diffs, blame, revert and branches."), ("review", "Merges, merge requests, protection and the approval queue."),
        ("ontology", "The typed world model every write is checked against."), ("compute", "Run (geo-math) and Solve (optimization)."),
        ("agents", "Agent runs: their records, lineage, replay and rollback."),
        ("workflows", "Workflows: definitions, enabling, manual and scheduled runs."), ("access", "Roles, grants, members, API keys, identity, evaluation."),
        ("audit", "The hash-chained audit log."), ("gis", "OGC API – Features: the project's features for GIS tools.")]

def tag(path, op_id):
    if not path.startswith("/v1/orgs/") or op_id in ("getOrg", "whoami"):
        return "server" if not path.startswith("/v1/orgs/") else "access"
    if any(k in path for k in ("/merge-requests", "/merges", "/approval")) or op_id == "shadowReport": return "review"
    if "/ontology" in path or "/violations" in path: return "ontology"
    if "/run" == path[-4:] or "/solve" in path: return "compute"
    if "/workflows" in path: return "workflows"
    if "/agent-runs" in path or "/lineage" in path: return "agents"
    if "/audit" in path: return "audit"
    if "/ogc" in path or path.endswith("/export"): return "gis"
    if any(k in path for k in ("/commits", "/diff", "/blame", "/revert", "/branches", "/events")): return "history"
    if any(k in path for k in ("/files", "/glob", "/grep")) or op_id in ("listProjects", "createProject"): return "files"
    return "access"

for path, item in paths.items():
    for method, op in item.items():
        if method == "parameters": continue
        op_id = op["operationId"]
        assert op_id in SUMMARIES, f"no summary for {op_id}"
        op["summary"] = SUMMARIES[op_id]
        op["tags"] = [tag(path, op_id)]


# The eight primitives' arguments, as an agent sees them over MCP (and as the engine checks every
# call: see ArgumentSchema). Run and Solve take the fields of their HTTP bodies, with a reason
# instead of a commit message and no ref (an agent works on its run's branch); an agent's solve
# is held to 600 s. The file tools keep names written for a language model (Edit's `all`, Grep's
# `lines` and `caseInsensitive`, smaller pages).
def tool(props, required):
    return {"type": "object", "properties": props, "required": list(required), "additionalProperties": False}
REASON = S(minLength=1, description="Why this change is made")
TOOLS = {
  "Read": tool({"path": S(description="The file's path in the project, e.g. fiber/cabinets/1.json"),
                "offset": I(minimum=1, description="First line to return (1-based)"),
                "limit": I(minimum=1, maximum=2000, description="At most this many lines")}, ["path"]),
  "Write": tool({"path": S(description="The file's path in the project"),
                 "content": S(description="The complete new content (JSON for entities)"), "reason": REASON}, ["path", "content", "reason"]),
  "Edit": tool({"path": S(), "old": S(minLength=1, description="The exact text to replace"), "new": S(description="The replacement"),
                "all": {**B, "description": "Replace every occurrence"}, "reason": REASON}, ["path", "old", "new", "reason"]),
  "Delete": tool({"path": S(description="A path or a glob (*, **, ?, [...])"), "reason": S(minLength=1, description="Why")}, ["path", "reason"]),
  "Glob": tool({"pattern": S(minLength=1, description="e.g. fiber/**/*.json"), "limit": I(minimum=1, maximum=5000), "cursor": S()}, ["pattern"]),
  "Grep": tool({"pattern": S(minLength=1), "glob": S(), "mode": S(enum=["files", "lines", "count"]), "caseInsensitive": B,
                "context": I(minimum=0, maximum=20), "limit": I(minimum=1, maximum=10000)}, ["pattern"]),
  "Run": tool({**RUN_FIELDS, "reason": S()}, ["function"]),
  "Solve": tool({**SOLVE_FIELDS, "timeLimit": {**SOLVE_FIELDS["timeLimit"], "maximum": 600}, "reason": S()}, ["kind"]),
}

doc = {"openapi": "3.1.0",
       "tags": [{"name": n, "description": d} for n, d in TAGS],
       "info": {"title": "Cairn", "version": "1.0.0", "description": "The governed, versioned world model. Every request authenticates with `Authorization: Bearer <API key or OIDC ID token>`; `X-Cairn-Reason` gives the why of a change."},
       "servers": [{"url": "/"}],
       "security": [{"bearer": []}],
       "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas},
       "paths": paths}
text = json.dumps(doc, indent=1, sort_keys=True)
assert '"""' not in text
root = pathlib.Path(__file__).resolve().parent.parent
outputs = {
    root / "Sources/CairnHTTP/Support/OpenAPISpec.swift":
        '// Generated by scripts/openapi.py; edit that script, not this file.\n// swift-format-ignore-file\n\n'
        '/// The OpenAPI 3.1 document served at `/v1/openapi.json`, compiled in so the binary ships alone.\n'
        'enum OpenAPIDocument {\n    static let bytes: [UInt8] = Array(\n        #"""\n' + text + '\n"""#.utf8)\n}\n',
    root / "Sources/CairnEngine/Sessions/ToolSchemas.swift":
        '// Generated by scripts/openapi.py; edit that script, not this file.\n// swift-format-ignore-file\n\n'
        '/// The JSON Schema of each primitive\'s arguments, made by the script that makes the HTTP API\'s\n'
        '/// document, from the same field descriptions (see `Primitive`).\n'
        'enum ToolSchemas {\n    static let byName: [String: String] = [\n'
        + ''.join(f'        "{name}": #"{json.dumps(schema, sort_keys=True, separators=(",", ":"))}"#,\n' for name, schema in sorted(TOOLS.items()))
        + '    ]\n}\n',
}
# --check: fail (exit 1) when a generated file differs from what this script makes: CI runs it,
# so the committed files are always the description's output.
if "--check" in sys.argv:
    stale = [str(path.relative_to(root)) for path, content in outputs.items() if not path.exists() or path.read_text() != content]
    if stale:
        print("generated from scripts/openapi.py but out of date: " + ", ".join(stale) + "; run  python3 scripts/openapi.py")
        sys.exit(1)
    print("the generated API files match scripts/openapi.py")
else:
    for path, content in outputs.items():
        path.write_text(content)
        print(f"wrote {path.relative_to(root)} ({len(content)} bytes)")
