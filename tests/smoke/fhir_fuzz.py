#!/usr/bin/env python3
"""Seeded, bounded fuzzing of the real cds-service's FHIR-client path.

Hook requests without prefetch name this script as their fhirServer: an HTTPS FHIR server on
127.0.0.1 (the dev certificate; the service trusts its CA) that answers each query well, in
pages, with mutated resources, with odd statuses and bodies, or breaks the connection. Every
request is valid, so every answer must be a 200 with conformant cards, within the fetch budget
(plus slack for the sanitized build). The FHIR server checks what the service sent it: the
request's own bearer token and Host on every GET, nothing the token's scope does not grant,
no more pages than the client's page cap. When every query was answered well (whole or in
pages) within the fetch budget, the cards must be the cards of the same request with its
prefetch sent inline.

  fhir_fuzz.py PORT FIXTURES_DIR --cert CRT --key KEY [--rounds N] [--seed S] [--budget-ms T]
"""
import argparse, copy, http.server, json, random, re, secrets, socket, ssl, sys, threading, time
from concurrent.futures import ThreadPoolExecutor

from fuzz_lib import Conn, check_cards, fail, failures, load_fixtures, semantic, structural

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("fixtures")
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--rounds", type=int, default=400)
ap.add_argument("--seed", type=int, default=20261204)
ap.add_argument("--budget-ms", type=int, default=800, help="the service's fhir.timeout_ms")
ap.add_argument("--max-pages", type=int, default=100, help="the FHIR client's page cap per query")
ap.add_argument("--clients", type=int, default=4, help="hook requests in flight at once")
args = ap.parse_args()

KEYS = {"Patient": "patient", "Condition": "conditions", "Procedure": "procedures", "Observation": "observations"}
SCOPES = {"patient": "patient/Patient.read", "conditions": "patient/Condition.rs", "procedures": "patient/Procedure.read",
          "observations": "patient/Observation.rs"}
WELL = ("whole", "paged", "then-close")  # answers that carry all the data
BEHAVIOURS = WELL + ("mutated", "status", "body", "transport", "self-loop", "foreign-next", "many", "slow")


class Case:
    """One hook request: the record the FHIR server holds, how it answers each query, and what it saw."""

    def __init__(self, n, fixture, rng):
        self.n, self.fixture, self.rng = n, fixture, rng
        self.token = secrets.token_urlsafe(24)
        self.data = {k: copy.deepcopy(v) for k, v in (fixture.get("prefetch") or {}).items()}
        self.behaviour = {k: rng.choice(WELL) if rng.random() < 0.45 else rng.choice(BEHAVIOURS) for k in SCOPES}
        self.denied = {k for k in SCOPES if rng.random() < 0.08}  # left out of the token's scope
        self.seen = []  # (key, page, host, authorization)
        self.lock = threading.Lock()


cases = {}
# Rounds already answered. A GET for one can still reach this server late: sent within the
# fetch budget, then delayed on a loaded machine past the answer. It is answered 404, not
# counted as a GET for no query.
finished = set()
server_port = None


def searchset(entries, link=None):
    b = {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
    if link: b["link"] = link
    return b


def body_for(case, key):
    """The data for a query: the fixture's resource or Bundle; an empty searchset for a key it has not."""
    v = case.data.get(key)
    if v is not None: return copy.deepcopy(v)
    if key == "patient": return {"resourceType": "Patient", "id": case.fixture["context"]["patientId"]}
    return searchset([])


def page_url(case, key, page): return f"https://127.0.0.1:{server_port}/fhir/{case.n}/page/{key}/{page}"


BAD_BODIES = [b"", b"{", b"[]", b'"x"', b"null", b"[" * 100000, b"\xff\xfe{}", b'{"resourceType":"Bundle","entry":{}}',
              b'{"resourceType":"Bundle","entry":[1,"x",null,{}]}', b'{"resourceType":"Bundle","entry":[{"resource":[]}]}',
              b'{"resourceType":"OperationOutcome","issue":[]}', b'{"resourceType":7}', b'{"resourceType":"Bundle","link":7}',
              b'{"resourceType":"Bundle","link":[{"relation":"next","url":7}]}',
              b'{"resourceType":"Bundle","link":[{"relation":"next","url":"Condition?page=2"}]}',
              b'{"resourceType":"Bundle","link":[{"relation":"next","url":"http://127.0.0.1:1/x"}]}',
              b'{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE"}}]}',
              b'{"resourceType":"Condition","id":"a/b","subject":{"reference":"Patient/../x"},"code":{"coding":7}}',
              b'{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Procedure"}}]}',
              b'{"a":1,"a":2}', b"{}" + b" " * 1000 + b"{}"]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a): pass

    def send(self, status, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        for h, v in extra: self.send_header(h, v)
        self.end_headers()
        self.wfile.write(body)

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        m = re.match(r"^/fhir/(\d+)/(?:page/(\w+)/(\d+)|(\w+)(?:/[^?]*)?(?:\?.*)?)$", self.path)
        case = cases.get(int(m.group(1))) if m else None
        key = (m.group(2) or KEYS.get(m.group(4) or "")) if m else None
        if m and case is None and int(m.group(1)) in finished:
            return self.send(404, b'{"resourceType":"OperationOutcome"}')
        if case is None or key is None:
            fail(f"FHIR server: a GET for no query it serves: {self.path[:120]}")
            return self.send(404, b"{}")
        page = int(m.group(3) or 0)
        with case.lock:
            case.seen.append((key, page, self.headers.get("Host"), self.headers.get("Authorization")))
        self.answer(case, key, page, random.Random(f"{args.seed}/{case.n}/{key}/{page}"))

    def answer(self, case, key, page, rng):
        how = case.behaviour[key]
        if how in ("whole", "then-close"):
            self.send(200, json.dumps(body_for(case, key)).encode())
            if how == "then-close": self.close_connection = True  # after saying keep-alive: a stale pooled connection
        elif how == "paged":
            b = body_for(case, key)
            if b.get("resourceType") != "Bundle": return self.send(200, json.dumps(b).encode())
            entries = b.get("entry", [])
            part = entries[page:page + 1]
            link = [{"relation": "self", "url": page_url(case, key, page)}]
            if page + 1 < len(entries): link.append({"relation": "next", "url": page_url(case, key, page + 1)})
            if page: link.append({"relation": "previous", "url": page_url(case, key, page - 1)})
            self.send(200, json.dumps(searchset(part, link)).encode())
        elif how == "mutated":
            b = body_for(case, key)
            b = semantic(b, rng) if rng.random() < 0.5 else structural(b, rng)
            self.send(200, json.dumps(b).encode())
        elif how == "status":
            status = rng.choice([201, 204, 301, 302, 304, 400, 401, 403, 404, 410, 429, 500, 503])
            body = b"" if status in (204, 304) else json.dumps({"resourceType": "OperationOutcome"}).encode()
            extra = [("Location", page_url(case, key, 1))] if status in (301, 302) else []
            if status in (204, 304):
                self.send_response(status)
                for h, v in extra: self.send_header(h, v)
                self.end_headers()
            else:
                self.send(status, body, extra)
        elif how == "body":
            self.send(200, rng.choice(BAD_BODIES))
        elif how == "self-loop":  # an empty page whose next link is itself
            self.send(200, json.dumps(searchset([], [{"relation": "next", "url": page_url(case, key, page)}])).encode())
        elif how == "foreign-next":  # the token must not follow a next link to another origin
            self.send(200, json.dumps(searchset([], [{"relation": "next", "url": f"https://localhost:{server_port}/fhir/{case.n}/page/{key}/1"}])).encode())
        elif how == "many":  # more than the resource cap, in pages of 400
            entry = {"resource": {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"}}}
            self.send(200, json.dumps(searchset([entry] * 400, [{"relation": "next", "url": page_url(case, key, page + 1)}])).encode())
        elif how == "slow":  # past the budget
            time.sleep(args.budget_ms / 1000 + 0.3)
            self.send(200, json.dumps(body_for(case, key)).encode())
        else:  # transport
            body = json.dumps(body_for(case, key)).encode()
            op = rng.randrange(9)
            if op == 0: self.raw(b"")
            elif op == 1: self.raw(b"HTTP/1.1 200 OK\r\nContent-Le")
            elif op == 2: self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(body) + 100) + body)
            elif op == 3: self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + body)
            elif op == 4: self.raw(b"HTTP/1.0 200 OK\r\n\r\n" + body)  # body to the close: valid
            elif op == 5: self.raw(b"GARBAGE\r\n\r\n")
            elif op == 6: self.raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
            elif op == 7: self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n" + body)
            else:
                self.raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)

    def finish_request(self, request, client_address):  # the handshake in the connection's thread
        try:
            request = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        self.RequestHandlerClass(request, client_address, self)

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if not isinstance(e, (OSError, ssl.SSLError)): fail(f"FHIR server: {e!r}")


Server.tls.load_cert_chain(args.cert, args.key)
fhir = Server(("127.0.0.1", 0), Handler)
server_port = fhir.server_address[1]
threading.Thread(target=fhir.serve_forever, daemon=True).start()


def normal(cards):
    """Cards without what each call makes fresh (uuids)."""
    def strip(v):
        if isinstance(v, dict): return {k: strip(x) for k, x in v.items() if k != "uuid"}
        if isinstance(v, list): return [strip(x) for x in v]
        return v
    return strip(cards)


fixtures = load_fixtures(args.fixtures)
for f in fixtures: f.pop("fhirServer", None), f.pop("fhirAuthorization", None)
inline = []  # the cards of each fixture with its prefetch sent inline
c0 = Conn(args.port)
services = {}
status, data = c0.send("GET", "/cds-services")
for s in json.loads(data)["services"]: services[s["hook"]] = s["id"]
for f in fixtures:
    status, data = c0.send("POST", "/cds-services/" + services[f["hook"]], json.dumps(f).encode())
    if status != 200: sys.exit(f"fixture {f['hookInstance']} with its prefetch answered {status}: {data[:200]!r}")
    inline.append(normal(json.loads(data)["cards"]))


most = {}  # the most GETs one query took, by behaviour
compared = []  # rounds whose cards were compared with the prefetch's


def round_trip(n):
    rng = random.Random(f"{args.seed}/{n}")
    k = rng.randrange(len(fixtures))
    case = Case(n, fixtures[k], rng)
    cases[n] = case
    doc = copy.deepcopy(fixtures[k])
    doc.pop("prefetch", None)
    patient = doc["context"]["patientId"]
    doc["fhirServer"] = f"https://127.0.0.1:{server_port}/fhir/{n}" + rng.choice(["", "/"])
    doc["fhirAuthorization"] = {"access_token": case.token, "token_type": "Bearer", "expires_in": 300, "subject": "cds",
                                "scope": " ".join(v for key, v in SCOPES.items() if key not in case.denied), "patient": patient}
    what = f"round {n} ({fixtures[k]['hookInstance']}, {case.behaviour}, denied {sorted(case.denied)})"
    conn = Conn(args.port)
    start = time.monotonic()
    status, data = conn.send("POST", "/cds-services/" + services[doc["hook"]], json.dumps(doc).encode())
    took = time.monotonic() - start
    if status != 200: return fail(f"{what}: status {status}: {data[:200]!r}")
    if took > args.budget_ms / 1000 + 5: fail(f"{what}: answered after {took:.1f} s")
    check_cards(what, data)
    with case.lock:
        seen = list(case.seen)
    for key, page, host, authz in seen:
        if authz != "Bearer " + case.token: fail(f"{what}: a GET for {key} came with another Authorization")
        if host != f"127.0.0.1:{server_port}": fail(f"{what}: a GET for {key} named Host {host!r}")
        if key in case.denied: fail(f"{what}: fetched {key}, which the token's scope does not grant")
    for key in SCOPES:
        pages = sum(1 for s in seen if s[0] == key)
        most[case.behaviour[key]] = max(most.get(case.behaviour[key], 0), pages)
        if pages > args.max_pages + 1: fail(f"{what}: {pages} GETs for {key}, more than the page cap")
    # An answer before the fetch budget ran out had every query's answer (on a loaded machine a
    # query may still be paging when the budget ends, and the answer is rightly incomplete).
    if not case.denied and all(b in WELL for b in case.behaviour.values()) and took < args.budget_ms / 1000:
        compared.append(n)
        if normal(json.loads(data)["cards"]) != inline[k]: fail(f"{what}: cards differ from the same request with prefetch")
    finished.add(n)
    del cases[n]


with ThreadPoolExecutor(args.clients) as pool:
    list(pool.map(round_trip, range(args.rounds)))
status, _ = Conn(args.port).send("GET", "/healthz")
if status != 200: fail(f"healthz after fuzzing: {status}")
fhir.shutdown()
print("most GETs per query:", most, f"; cards compared with the prefetch's in {len(compared)} rounds")
print(f"fhir_fuzz: {args.rounds} hook requests through a fuzzed FHIR server; {len(failures)} failures")
sys.exit(1 if failures else 0)
