"""GraphQL: malformed requests, deep / wide / aliased / cyclic documents, huge and wrongly typed variables,
unicode and control characters in every kind of string argument, and other tenants' ids."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

from app.models import Role
from tests.hostile.corpus import Case, Ctx, E, graphql_code

HTTP_DEFECT = "fixed on branch http: {}"
V = "GRAPHQL_VALIDATION_FAILED"
P = "GRAPHQL_PARSE_FAILED"
BAD = "VALIDATION_FAILED"
NESTED = "projects(first:100){nodes{jobs(first:100){nodes{stages{stage}}}}}"


def g(case_id: str, query: str, variables: Any = None, expect: str | tuple[str, ...] = BAD, *,
      role: Role = Role.EDITOR, xfail: str | None = None, area: str = "graphql") -> Case:
    async def run(ctx: Ctx) -> str:
        values = variables(ctx) if callable(variables) else variables
        return await ctx.gql(query, values, role=role)
    return Case(case_id, area, run, expect if isinstance(expect, tuple) else (expect,), xfail=xfail)


def raw(case_id: str, content: bytes, expect: str | tuple[str, ...], *, headers: dict[str, str] | None = None,
        xfail: str | None = None) -> Case:
    async def run(ctx: Ctx) -> str:
        return graphql_code(await ctx.post_graphql(content=content, token=ctx.token(), headers=headers))
    return Case(case_id, "graphql", run, expect if isinstance(expect, tuple) else (expect,), xfail=xfail)


def _method(case_id: str, method: str, expect: str) -> Case:
    async def run(ctx: Ctx) -> str:
        answer = await ctx.http.request(method, "/graphql?query=%7Bme%7BtenantId%7D%7D",
                                        headers={"Authorization": f"Bearer {ctx.token()}",
                                                 "Accept": "application/json"})
        return f"HTTP_{answer.status_code}"
    return Case(case_id, "graphql", run, (expect,))


def _nested_lists(depth: int) -> bytes:
    return b'{"query": "{ me { tenantId } }", "variables": {"x": ' + b"[" * depth + b"]" * depth + b"}}"


MALFORMED: list[Case] = [
    raw("http-empty-body", b"", "INVALID_JSON"),
    raw("http-not-json", b"{", "INVALID_JSON"),
    raw("http-json-array-batch", b'[{"query": "{ me { tenantId } }"}]', "BAD_REQUEST"),
    raw("http-json-string", b'"{ me { tenantId } }"', "BAD_REQUEST"),
    raw("http-json-number", b"42", "BAD_REQUEST"),
    raw("http-empty-object", b"{}", "HTTP_400"),
    raw("http-query-null", b'{"query": null}', "HTTP_400"),
    raw("http-query-number", b'{"query": 5}', ("HTTP_400", P)),
    raw("http-variables-string", b'{"query": "{ me { tenantId } }", "variables": "x"}', "HTTP_400"),
    raw("http-variables-list", b'{"query": "{ me { tenantId } }", "variables": [1]}', "HTTP_400"),
    raw("http-invalid-utf8", b'{"query": "{ me { tenantId } }\xff\xfe"}', "INVALID_ENCODING"),
    raw("http-utf16-body", '{"query": "{ me { tenantId } }"}'.encode("utf-16"), "INVALID_ENCODING"),
    raw("http-deeply-nested-variables", _nested_lists(20_000), "INVALID_JSON"),
    raw("http-body-over-limit", b'{"query": "{ me { tenantId } }", "pad": "' + b"x" * 70_000 + b'"}',
        "REQUEST_TOO_LARGE"),
    raw("http-text-plain", b'{"query": "{ me { tenantId } }"}', ("HTTP_415", "HTTP_400"),
        headers={"Content-Type": "text/plain"}),
    raw("http-multipart", b"--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{}\r\n--x--\r\n",
        ("HTTP_400", "HTTP_415"), headers={"Content-Type": "multipart/form-data; boundary=x"}),
    _method("http-get-query", "GET", "HTTP_400"),  # queries over GET are off
    _method("http-put", "PUT", "HTTP_405"),
    raw("http-nul-in-query", json.dumps({"query": "{ me { tenantId } }\u0000"}).encode(), P),
    raw("http-bom-before-json", b"\xef\xbb\xbf" + b'{"query": "{ me { tenantId } }"}', "INVALID_JSON"),
]

DOCUMENTS: list[Case] = [
    g("doc-syntax-open-brace", "{", expect=P),
    g("doc-syntax-garbage", "query { me { tenantId } } }}}", expect=P),
    g("doc-only-comment", "# nothing here", expect=P),
    g("doc-too-many-tokens", "{ me { " + "tenantId " * 2500 + "} }", expect=P),
    g("doc-unknown-field", "{ nope }", expect=V),
    g("doc-unknown-type-fragment", "{ ...on Nope { id } }", expect=V),
    g("doc-two-anonymous-operations", "{ me { tenantId } } { me { role } }", expect=V),
    # Two named operations and no operationName: strawberry runs the first (and the cost is that one's).
    g("doc-missing-operation-name", "query A { me { tenantId } } query B { me { role } }", expect="OK"),
    g("doc-anonymous-and-named", "{ " + NESTED + " } query B { me { role } }", expect=V),
    raw("doc-unknown-operation-name", json.dumps({"query": "query A { me { tenantId } }",
                                                  "operationName": "C"}).encode(), ("HTTP_400", V)),
    g("doc-subscription-over-http", "subscription { jobProgress(jobId: \"x\") { seq } }",
      expect=V),
    g("doc-deep-introspection", "{ __schema { types { fields { type " + "{ ofType " * 10 + "{ name }" + " }" * 10
      + " } } } }", expect="OK"),  # introspection is exempt from the depth limit (off in production; costs 50)
    g("doc-deep-nesting", "{ me { " + "user { " * 20 + "id" + " }" * 20 + " } }", expect=V),
    g("doc-31-aliases", "{ " + " ".join(f"a{i}: me {{ tenantId }}" for i in range(31)) + " }", expect=V),
    g("doc-29-aliased-nested-lists", "{" + " ".join(f"a{i}: {NESTED}" for i in range(29)) + "}",
      expect="COST_LIMIT_EXCEEDED"),
    g("doc-nested-lists-by-variables", "query($n: Int!) { a: projects(first: $n) { nodes { jobs(first: $n) { nodes"
      " { stages { stage } } } } } b: projects(first: $n) { nodes { id } } }", {"n": 100}, "COST_LIMIT_EXCEEDED"),
    g("doc-nested-lists-by-fragments", "fragment J on Project { jobs(first: 100) { nodes { stages { stage } } } } "
      "{ " + " ".join(f"a{i}: projects(first: 100) {{ nodes {{ ...J }} }}" for i in range(3)) + " }",
      expect="COST_LIMIT_EXCEEDED"),
    g("doc-fragment-cycle", "fragment A on Me { ...B } fragment B on Me { ...A } { me { ...A } }", expect=V),
    g("doc-fragment-self-cycle", "fragment A on Me { tenantId ...A } { me { ...A } }", expect=V),
    g("doc-undefined-fragment", "{ me { ...Missing } }", expect=V),
    g("doc-unused-fragment", "fragment U on Me { tenantId } { me { role } }", expect=V),
    g("doc-wide-duplicate-fields", "{ me { " + "tenantId " * 1900 + "} }", expect=(V, "OK")),
    g("doc-directive-flood", "{ me { tenantId " + "@include(if: true) " * 300 + "} }", expect=P),
    g("doc-unknown-directive", "{ me { tenantId @evil } }", expect=V),
]

_uuid = lambda: str(uuid.uuid4())  # noqa: E731


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


TYPES: list[Case] = [
    g("type-id-int-literal", f"{{ project(id: 123) {{ {E} }} }}", expect=("NOT_FOUND", BAD)),
    g("type-id-not-uuid", f"{{ project(id: \"not-a-uuid\") {{ {E} }} }}", expect=("NOT_FOUND", BAD)),
    g("type-id-empty", f"{{ project(id: \"\") {{ {E} }} }}", expect=("NOT_FOUND", BAD)),
    g("type-id-sql", f"{{ project(id: \"' OR 1=1 --\") {{ {E} }} }}", expect=("NOT_FOUND", BAD)),
    g("type-id-huge", "query($id: ID!) { project(id: $id) { " + E + " } }", {"id": "9" * 50_000},
      expect=("NOT_FOUND", BAD)),
    g("type-first-string", "{ projects(first: \"x\") { nodes { id } } }", expect=V),
    g("type-first-overflow", "{ projects(first: 2147483648) { nodes { id } } }", expect=V),
    g("type-first-negative", "{ projects(first: -1) { nodes { id } } }"),
    g("type-first-over-page", "{ projects(first: 101) { nodes { id } } }"),
    g("type-first-variable-float", "query($n: Int!) { projects(first: $n) { nodes { id } } }", {"n": 1.5}, V),
    g("type-first-variable-null", "query($n: Int!) { projects(first: $n) { nodes { id } } }", {"n": None}, V),
    g("type-first-variable-object", "query($n: Int!) { projects(first: $n) { nodes { id } } }", {"n": {"a": 1}}, V),
    g("type-cursor-garbage", "{ projects(after: \"!!!\") { nodes { id } } }"),
    g("type-cursor-bad-date", "query($a: String) { projects(after: $a) { nodes { id } } }",
      {"a": _cursor(f"k1|not-a-date|{uuid.uuid4()}")}),
    g("type-cursor-naive-date", "query($a: String) { projects(after: $a) { nodes { id } } }",
      {"a": _cursor(f"k1|2020-01-01T00:00:00|{uuid.uuid4()}")}),
    g("type-cursor-other-version", "query($a: String) { projects(after: $a) { nodes { id } } }",
      {"a": _cursor(f"k9|2020-01-01T00:00:00+00:00|{uuid.uuid4()}")}),
    g("type-input-name-int", f"mutation {{ createProject(input: {{name: 5}}) {{ {E} }} }}", expect=V),
    g("type-input-unknown-field", f"mutation {{ createProject(input: {{name: \"x\", evil: 1}}) {{ {E} }} }}",
      expect=V),
    g("type-input-null-required", "mutation($i: CreateProjectInput!) { createProject(input: $i) { " + E + " } }",
      {"i": None}, V),
    g("type-enum-unknown", f"mutation {{ addMember(email: \"x@example.com\", role: GOD) {{ {E} }} }}",
      role=Role.ADMIN, expect=V),
    g("type-profile-unknown", "mutation($p: ID!) { startRender(projectId: $p, options: {profile: \"99999p\"}) { "
      + E + " } }", lambda c: {"p": str(c.a.project.id)}),
    g("type-source-ids-not-uuid", "mutation($p: ID!) { startRender(projectId: $p, options: {sourceAssetIds: "
      "[\"nope\"]}) { " + E + " } }", lambda c: {"p": str(c.a.project.id)}, ("NOT_FOUND", BAD)),
    g("type-source-ids-1000-random", "mutation($p: ID!, $s: [ID!]) { startRender(projectId: $p, options: "
      "{sourceAssetIds: $s}) { " + E + " } }",
      lambda c: {"p": str(c.a.project.id), "s": [_uuid() for _ in range(1000)]},
      ("NOT_FOUND", BAD)),
    g("type-clips-not-list", "mutation($j: ID!) { updateAlignment(jobId: $j, beats: [{index: 0, clips: \"x\"}]) { "
      + E + " } }", lambda c: {"j": str(c.a.job.id)}, (BAD, "CONFLICT")),  # the job is finished: CONFLICT first
    g("type-clips-wrong-shape", "mutation($j: ID!) { updateAlignment(jobId: $j, beats: [{index: 0, clips: "
      "[{source: 5, start: \"a\"}]}]) { " + E + " } }", lambda c: {"j": str(c.a.job.id)}, (BAD, "CONFLICT")),
    g("type-beat-index-huge", "mutation($j: ID!) { updateAlignment(jobId: $j, beats: [{index: 2147483647, clips: "
      "[]}]) { " + E + " } }", lambda c: {"j": str(c.a.job.id)}, (BAD, "CONFLICT", "NOT_FOUND")),
    g("type-quota-negative", "mutation($t: ID!) { setQuotaPolicy(input: {tenantId: $t, concurrentJobs: -1, "
      "processingMinutesPerMonth: -1, storageBytes: -1}) { " + E + " } }", lambda c: {"t": str(c.a.tenant.id)},
      (BAD, "PERMISSION_DENIED"), role=Role.OWNER),
    g("type-bigint-garbage", "mutation($p: ID!) { prepareUpload(input: {projectId: $p, filename: \"a.mp4\", "
      "size: \"12abc\"}) { " + E + " } }", lambda c: {"p": str(c.a.project.id)}, (V, BAD)),
    g("type-expires-in-huge", "query($j: ID!) { job(id: $j) { ... on Job { downloads(expiresIn: 2147483647) "
      "{ url } } } }", lambda c: {"j": str(c.a.job.id)}, "OK"),
    g("type-huge-search", "query($s: String) { projects(search: $s) { nodes { id } } }", {"s": "x" * 60_000},
      (BAD, "OK")),
]

# Strings no name may hold: each goes into createProject's name (refused, nothing created).
BAD_STRINGS: dict[str, str] = {
    "nul": "a\x00b", "escape": "a\x1b[31mred", "newline": "line\nbreak", "tab-only": "\t", "empty": "",
    "spaces-only": "   ", "bidi-override": "movie\u202egnp.exe", "bidi-isolate": "a\u2066b", "zero-width": "a\u200bb",
    "bom": "\ufeffname", "private-use": "a\ue000b", "unassigned": "a\U000e0080b", "4kb": "x" * 4096,
    "del": "a\x7fb", "c1-control": "a\x85b", "line-separator": "a\u2028b",
}


def _bad_name(case_id: str, value: str, query: str, variables: Callable[[Ctx], dict[str, Any]]) -> Case:
    return g(case_id, query, variables, (BAD, V), area="names")


UNICODE: list[Case] = [
    *(_bad_name(f"name-create-project-{key}", value,
                "mutation($n: String!) { createProject(input: {name: $n}) { " + E + " } }",
                lambda c, v=value: {"n": v}) for key, value in BAD_STRINGS.items()),
    *(_bad_name(f"name-update-project-{key}", value,
                "mutation($id: ID!, $n: String) { updateProject(input: {id: $id, name: $n}) { " + E + " } }",
                lambda c, v=value: {"id": str(c.a.project.id), "n": v})
      for key, value in BAD_STRINGS.items() if key in ("nul", "bidi-override", "4kb", "empty")),
    g("name-lone-surrogate", "query", None, (BAD, V, "HTTP_400"), area="names"),  # replaced below (raw JSON)
    g("name-create-tenant-nul", "mutation { createTenant(name: \"a\\u0000b\") { " + E + " } }", expect=(BAD, V),
      area="names"),
    g("name-register-nul-display", "mutation { register(email: \"h-nul@example.com\", password: \"Long-Pass-42x\", "
      "displayName: \"a\\u0000b\", tenantName: \"T\") { " + E + " } }", expect=(BAD, V), area="names"),
    g("name-register-bad-email", "mutation { register(email: \"a@b\\u0000.com\", password: \"Long-Pass-42x\", "
      "displayName: \"A\", tenantName: \"T\") { " + E + " } }", expect=(BAD, V), area="names"),
    g("name-register-4kb-tenant", "mutation { register(email: \"h-long@example.com\", password: \"Long-Pass-42x\", "
      "displayName: \"A\", tenantName: \"" + "t" * 4096 + "\") { " + E + " } }", expect=(BAD, V), area="names"),
    g("name-render-title-nul", "mutation($p: ID!) { startRender(projectId: $p, options: {title: \"a\\u0000b\"}) { "
      + E + " } }", lambda c: {"p": str(c.a.project.id)}, (BAD, V), area="names"),
    g("name-search-nul", "{ projects(search: \"a\\u0000\") { nodes { id } } }", expect=(BAD, "OK"), area="names"),
    g("name-search-like-wildcards", "{ projects(search: \"%_\\\\\") { nodes { id } } }", expect="OK", area="names"),
    g("name-add-member-nul-email", "mutation { addMember(email: \"x\\u0000@example.com\", role: VIEWER) { " + E
      + " } }", role=Role.ADMIN, expect=(BAD, "NOT_FOUND"), area="names"),
]


def _lone_surrogate() -> Case:
    body = (b'{"query": "mutation { createProject(input: {name: \\"a\\ud800b\\"}) '
            b'{ __typename ... on Error { code } } }"}')
    case = raw("name-lone-surrogate", body, "INVALID_ENCODING")
    return Case(case.id, "names", case.run, case.expect)


UNICODE = [_lone_surrogate() if c.id == "name-lone-surrogate" else c for c in UNICODE]
