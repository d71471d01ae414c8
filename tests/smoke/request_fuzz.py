#!/usr/bin/env python3
"""Seeded, bounded fuzzing of the real cds-service on 127.0.0.1 (plain HTTP, auth off).

Every answer must be a JSON body with a status below 500 (bad input gets a 4xx that says what
is wrong), every 200 must be a conformant CDS Hooks response, the service must stay up, and
nothing here waits: each connection has a time-out and the bytes are followed by EOF.

  request_fuzz.py PORT FIXTURES_DIR [--requests N] [--feedback N] [--framing N] [--seed S]
                  [--auth-port P --tokens FILE [--tokens-n N]]

Phases: mutated hook requests (the fixtures with members deleted, retyped, repeated or given
extreme dates, numbers and codes, some also corrupted byte by byte); shape slips (a FHIR element
of the wrong shape must give the same cards as the element's absence); feedback, reports and odd
request targets; malformed HTTP framing at the socket; and, against a second service with
auth on (--auth-port), mutated JWTs made from real signed ones (FILE: one per line), where
every answer but a first use of an untouched token must be a 401. Found so far: a repeated
draft order (a 503), a resource without an id and extreme exp/iat claims (undefined behaviour:
the sanitized build aborted), an id with a slash (in a delete action's resourceId), and
requests without exactly one Host header (answered as if valid).
"""
import argparse, base64, copy, http.client, json, os, random, re, socket, sys, urllib.parse

from fuzz_lib import Conn, check_answer, check_cards, fail, failures, load_fixtures, semantic, structural

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("fixtures")
ap.add_argument("--requests", type=int, default=2000)
ap.add_argument("--feedback", type=int, default=600)
ap.add_argument("--framing", type=int, default=300)
ap.add_argument("--slips", type=int, default=300)
ap.add_argument("--seed", type=int, default=20261203)
ap.add_argument("--keep", help="a directory to write the hook requests that failed to")
ap.add_argument("--auth-port", type=int)
ap.add_argument("--tokens")
ap.add_argument("--tokens-n", type=int, default=1500)
args = ap.parse_args()
rng = random.Random(args.seed)
# ---- phase 1: mutated hook requests ------------------------------------------------------

def corrupt(body):
    b = bytearray(body)
    op = rng.random()
    if op < 0.3 and b: del b[rng.randrange(len(b)):]
    elif op < 0.6 and b:
        for _ in range(rng.randint(1, 8)): b[rng.randrange(len(b))] = rng.randrange(256)
    elif op < 0.8:
        at = rng.randrange(len(b) + 1)
        b[at:at] = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"{", b"]", b'"', b"\\u12"])
    else: b = b"[" * rng.randint(1, 5000) + b
    return bytes(b)


fixtures = load_fixtures(args.fixtures)
for d in fixtures:
    d.pop("fhirServer", None)  # never fetch from anywhere
    d.pop("fhirAuthorization", None)
conn = Conn(args.port)
status, data = conn.send("GET", "/cds-services")
if status != 200: sys.exit(f"discovery answered {status}: {data[:200]!r}")
services = {s["id"]: s["hook"] for s in json.loads(data)["services"]}
for i in range(args.requests):
    doc = copy.deepcopy(rng.choice(fixtures))
    same_hook = [s for s, h in services.items() if h == doc.get("hook")]
    service = rng.choice(same_hook) if same_hook and rng.random() < 0.9 else rng.choice(list(services))
    r = rng.random()
    if r < 0.35: doc = semantic(doc, rng)
    elif r < 0.85: doc = structural(doc, rng)
    if isinstance(doc, dict): doc.pop("fhirServer", None), doc.pop("fhirAuthorization", None)
    body = json.dumps(doc).encode()
    if rng.random() < 0.2: body = corrupt(body)
    status, data = conn.send("POST", "/cds-services/" + service, body)
    check_answer(f"request #{i} to {service}", status, data, conn.content_type)
    if status == 200:
        before = len(failures)
        check_cards(f"request #{i} to {service}", data)
        if len(failures) > before: open(os.path.join(args.keep, f"request-{i}.json"), "wb").write(body) if args.keep else None

# ---- phase 1b: shape slips are treated exactly as absence -------------------------------------
# A FHIR element of the wrong shape (outside the strict set: ids, resourceType) is dropped and
# treated as absent: the answer to a request with the slip must give the same cards (rule,
# indicator, summary, what triggered them) as the same request with the element removed. So a
# slip can never cost a card that its absence would not, in particular no critical or warning
# card whose rule does not read the element. The slips are those real clients send: the
# sandbox's one-object reasonCode, a string note, a numeric dateTime, and so on.

SLIPS = {  # element -> wrong-shaped values
    "reasonCode": [{"text": "Knee OA"}, "M17.11"], "note": ["note text", [{"text": 1}, "x"], {"text": "n"}],
    "occurrenceDateTime": [20261125, "next week", {}], "occurrencePeriod": [[], "2026"],
    "authoredOn": [{}, 7], "subject": ["Patient/x"], "bodySite": [{"text": "Right knee"}, "knee"],
    "quantityQuantity": ["1", {"value": "1"}], "occurrenceTiming": ["3x"], "basedOn": [{"reference": "CarePlan/1"}],
    "reasonReference": [{"reference": "Condition/1"}], "dosageInstruction": [{"text": "x"}],
    "performedDateTime": [2020, "yesterday"], "performedPeriod": ["2020"], "onsetDateTime": [2015, "2015-13"],
    "recordedDate": [1], "clinicalStatus": ["active", []], "verificationStatus": ["confirmed"],
    "valueInteger": ["7", 7.5], "valueQuantity": [7, {"value": "7"}], "effectiveDateTime": [{}, "soon"],
    "component": [{"code": {}}], "status": [1, {}], "code": ["20610", [{"text": "x"}]], "birthDate": [19800101],
}


def slip_targets(doc):
    """(container, key) pairs of the resources' elements that can be slipped in this request."""
    out = []
    def resources(bundle):
        for e in bundle.get("entry", []) if isinstance(bundle, dict) else []:
            if isinstance(e, dict) and isinstance(e.get("resource"), dict): yield e["resource"]
    found = list(resources(doc.get("context", {}).get("draftOrders")))
    for v in (doc.get("prefetch") or {}).values():
        if isinstance(v, dict): found += [v] if v.get("resourceType") != "Bundle" else list(resources(v))
    for r in found:
        out += [(r, k) for k in SLIPS if k in r and not (k == "code" and r.get("resourceType") == "Bundle")]
        out += [(r, k) for k in ("reasonCode", "note", "occurrenceDateTime") if k not in r and r.get("resourceType") in ("ServiceRequest", "MedicationRequest")]
    return out


def signature(data):
    cards = json.loads(data).get("cards", [])
    return sorted((c.get("indicator"), c.get("summary"), json.dumps(c.get("extension", {}).get("provenance", {}).get("triggeredBy")))
                  for c in cards)


slips = 0
for i in range(args.slips):
    base = copy.deepcopy(rng.choice([f for f in fixtures if f.get("hook") in services.values()]))
    targets = slip_targets(base)
    if not targets: continue
    k = rng.randrange(len(targets))
    service = next(s for s, h in services.items() if h == base["hook"])
    slipped, absent = copy.deepcopy(base), copy.deepcopy(base)
    container_s, key = slip_targets(slipped)[k]
    container_a, _ = slip_targets(absent)[k]
    container_s[key] = copy.deepcopy(rng.choice(SLIPS[key]))
    container_a.pop(key, None)
    s_status, s_data = conn.send("POST", "/cds-services/" + service, json.dumps(slipped).encode())
    a_status, a_data = conn.send("POST", "/cds-services/" + service, json.dumps(absent).encode())
    what = f"slip #{i}: {base['hookInstance']} {container_s.get('resourceType')}.{key} = {json.dumps(container_s[key])[:40]}"
    check_answer(what, s_status, s_data, conn.content_type)
    if s_status != a_status: fail(f"{what}: answered {s_status}, {a_status} with the element absent: {s_data[:200]!r}")
    elif s_status == 200:
        check_cards(what, s_data)
        if signature(s_data) != signature(a_data):
            fail(f"{what}: cards differ from the element's absence:\n  {signature(s_data)}\n  {signature(a_data)}")
        slips += 1
if args.slips and slips < args.slips // 2: fail(f"only {slips} of {args.slips} slips were answered 200: the phase tested little")

# ---- phase 2: feedback, reports, odd targets ----------------------------------------------

first = copy.deepcopy(next(f for f in fixtures if f.get("hook") == "order-sign"))
status, data = conn.send("POST", "/cds-services/knee-oa-order-sign", json.dumps(first))
cards = json.loads(data).get("cards", []) if status == 200 else []
card = next((c for c in cards if c.get("suggestions") and c.get("overrideReasons")), None)
if card is None: sys.exit(f"no card with suggestions to give feedback on: {status} {data[:200]!r}")
good = [{"card": card["uuid"], "outcome": "accepted", "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
         "outcomeTimestamp": "2026-11-25T12:05:00Z"},
        {"card": card["uuid"], "outcome": "overridden",
         "overrideReason": {"reason": {k: card["overrideReasons"][0][k] for k in ("system", "code", "display")},
                            "userComment": "x"}, "outcomeTimestamp": "2026-11-25T12:06:00Z"}]
QUERY = ["", "2026-11-01", "2026-11-01T00:00:00Z", "2026-13-01", "-1", "9999-12-31", "x" * 5000, "%00", "json", "csv",
         "html", "cards", "feedback", "invocations", "'; DROP TABLE card;--", "\u00e9"]
TARGETS = ["/", "/cds-services/", "/cds-services//feedback", "/cds-services/knee-oa-order-sign/feedback/x",
           "/%2e%2e/%2e%2e/etc/passwd", "/cds-services/%00", "/cds-services/knee-oa-order-sign%2Ffeedback", "/healthz?x=1",
           "/readyz", "/metrics", "/docs/rules/knee-oa", "/docs/evidence/knee-oa", "//", "/" + "a/" * 3000,
           "/reports/compliance", "*", "http://127.0.0.1/cds-services", "/cds-services?x=%zz", "/%"]
for i in range(args.feedback):
    r = rng.random()
    if r < 0.45:
        items = [structural(copy.deepcopy(rng.choice(good)), rng) if rng.random() < 0.8 else copy.deepcopy(rng.choice(good))
                 for _ in range(rng.randint(1, 3))]
        service = rng.choice(list(services) + ["nope"])
        what, (status, data) = "feedback", conn.send("POST", f"/cds-services/{service}/feedback", json.dumps({"feedback": items}))
    elif r < 0.75:
        q = urllib.parse.urlencode([(rng.choice(["from", "to", "format", "tenant", "table", "x"]), rng.choice(QUERY))
                                    for _ in range(rng.randint(0, 4))])
        auth = "Bearer fuzz-admin" if rng.random() < 0.9 else rng.choice(["Bearer", "Bearer x", "Basic abc"])
        what, (status, data) = f"report ?{q[:80]}", conn.send("GET", "/reports/compliance?" + q, headers={"Authorization": auth})
    else:
        method, target = rng.choice(["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]), rng.choice(TARGETS)
        what = f"{method} {target[:60]}"
        status, data = conn.send(method, target, "{}" if method in ("POST", "PUT") else None,
                                 {"Origin": rng.choice(["https://ehr.example.org", "null", "x" * 300])})
    check_answer(what, status, data, conn.content_type)

# ---- phase 3: HTTP framing at the socket ----------------------------------------------------

plain = json.dumps(next(f for f in fixtures if f.get("hook") == "order-sign")).encode()


def raw(extra=b"", body=plain, line=b"POST /cds-services/knee-oa-order-sign HTTP/1.1", length=True):
    head = line + b"\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" + extra
    if length: head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


FRAMINGS = [
    lambda: raw(line=b"POST /cds-services/knee-oa-order-sign HTTP/1.0"), lambda: raw(line=b"GARBAGE"),
    lambda: raw(line=b"POST /x HTTP/9.9"), lambda: raw(b"Content-Length: 5\r\n"),
    lambda: raw(b"Transfer-Encoding: chunked\r\n"),
    lambda: raw(b"Transfer-Encoding: chunked\r\n", b"zz\r\n" + plain + b"\r\n0\r\n\r\n", length=False),
    lambda: raw(b"Transfer-Encoding: chunked\r\n", b"%x\r\n" % len(plain) + plain + b"\r\n0\r\n\r\n", length=False),
    lambda: raw(b"Transfer-Encoding: chunked\r\n", b"ffffffffffffffffff\r\n", length=False),
    lambda: raw(b"X-Long: " + b"a" * rng.choice([100, 16000, 70000]) + b"\r\n"),
    lambda: raw(b"".join(b"X-%d: y\r\n" % i for i in range(rng.choice([10, 1000])))),
    lambda: raw(b"Expect: 100-continue\r\n"), lambda: raw(b"Content-Length: 99999999999999999999\r\n", b"", length=False),
    lambda: raw(b"Content-Length: -1\r\n", b"", length=False), lambda: raw(b"Content-Length: 2000000\r\n", b"{", length=False),
    lambda: raw(b"Host: a\r\n"), lambda: raw(line=b"GET /healthz HTTP/1.1").replace(b"Host: 127.0.0.1\r\n", b""),
    lambda: raw() + raw(), lambda: raw(b"\x00\xff: \x01\r\n"),
    lambda: bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000))),
    lambda: (lambda r: r[:rng.randrange(len(r))])(raw()),
    lambda: (lambda r: bytes(c if rng.random() > 0.002 else rng.randrange(256) for c in r))(raw()),
]
for i in range(args.framing):
    k = rng.randrange(len(FRAMINGS))
    s = socket.create_connection(("127.0.0.1", args.port), timeout=15)
    got = b""
    try:
        try:
            s.sendall(FRAMINGS[k]())
            s.shutdown(socket.SHUT_WR)  # EOF after the bytes: the service must answer or close, not wait
        except OSError:
            pass  # the service answered and closed before taking all of it: read what it said
        while len(got) < 4_000_000:
            chunk = s.recv(65536)
            if not chunk: break
            got += chunk
    except socket.timeout:
        fail(f"framing #{i} (case {k}): no answer and no close within 15 s")
    except OSError:
        pass  # reset mid-message: a close, which is allowed
    finally:
        s.close()
    for m in re.finditer(rb"HTTP/1\.[01] (\d{3})", got):
        if int(m.group(1)) >= 500: fail(f"framing #{i} (case {k}): {got[:200]!r}")

# ---- phase 4: JWTs, against the service with auth on ------------------------------------

def b64(raw): return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
def unb64(text): return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mutate_token(token):
    header, payload, signature = token.split(".")
    r = rng.random()
    if r < 0.15:
        h = json.loads(unb64(header))
        h[rng.choice(["alg", "kid", "typ", "jku", "crit"])] = rng.choice(
            ["none", "HS256", "ES256", "RS384", "", None, 1, [], "k2", "x" * 5000, "http://127.0.0.1:1/jwks"])
        return b64(json.dumps(h).encode()) + "." + payload + "." + signature
    if r < 0.4:
        p = json.loads(unb64(payload))
        k = rng.choice(["iss", "sub", "aud", "exp", "iat", "jti", "tenant"])
        p[k] = rng.choice([None, "", 0, -1, -2 ** 63, 2 ** 63 - 1, 2 ** 64 - 1, 1e308, -1e308, 0.5, "x", ["a"], {},
                           "https://ehr.fuzz.test", "fuzz-ehr"])
        if rng.random() < 0.3: del p[k]
        return header + "." + b64(json.dumps(p).encode()) + "." + signature
    if r < 0.5: return header + "." + payload + "." + b64(unb64(signature)[:rng.randrange(1, 120)])
    if r < 0.6: return header + "." + payload
    if r < 0.7: return token + "." + token
    if r < 0.8: return "".join(c if rng.random() > 0.01 else rng.choice("._-=+/ ") for c in token)
    if r < 0.9: return None  # the token itself: accepted the first time, a replay after
    return rng.choice(["", ".", "..", "a.b.c", "x" * 10000])


if args.auth_port:
    tokens = [t for t in open(args.tokens).read().split() if t]
    used, accepted = set(), 0
    auth = http.client.HTTPConnection("127.0.0.1", args.auth_port, timeout=30)
    for i in range(args.tokens_n):
        token = rng.choice(tokens)
        mutated = mutate_token(token)
        sent = token if mutated is None else mutated
        scheme = rng.choice(["Bearer ", "Bearer ", "bearer ", "Basic ", ""])
        try:
            auth.request("POST", "/cds-services/knee-oa-order-sign", body=plain,
                         headers={"Content-Type": "application/json", "Authorization": scheme + sent})
            r = auth.getresponse()
            status, data = r.status, r.read()
        except (OSError, http.client.HTTPException) as e:
            auth = http.client.HTTPConnection("127.0.0.1", args.auth_port, timeout=30)
            status, data = None, repr(e).encode()
        check_answer(f"token #{i}", status, data, "application/json")
        fresh = sent == token and scheme.lower() == "bearer " and token not in used
        if fresh: used.add(token)
        if status == 200:
            accepted += 1
            if not fresh: fail(f"token #{i}: a mutated or replayed token was accepted: {sent[:120]}")
        elif fresh:
            fail(f"token #{i}: a fresh valid token was refused: {status} {data[:200]!r}")
        elif status not in (400, 401): fail(f"token #{i}: status {status} {data[:200]!r}")
    if not accepted: fail("no token was accepted: the phase tested nothing")
    auth.request("GET", "/healthz"); r = auth.getresponse(); r.read()
    if r.status != 200: fail(f"healthz of the auth service after fuzzing: {r.status}")

status, data = Conn(args.port).send("GET", "/healthz")
if status != 200: fail(f"healthz after fuzzing: {status}")
print(f"request_fuzz: {args.requests} hook requests, {slips} shape slips, {args.feedback} other requests, {args.framing} framings, "
      f"{args.tokens_n if args.auth_port else 0} tokens; {len(failures)} failures")
sys.exit(1 if failures else 0)
