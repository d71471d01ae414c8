"""What the fuzzers share: an HTTP connection to the service that survives a reset, the checks
every answer and every card must pass, and the mutations of a hook request's JSON."""
import copy, glob, http.client, json, os, re

failures = []


def fail(what):
    failures.append(what)
    print("FAIL", what[:300])


class Conn:
    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.content_type = ""

    def send(self, method, target, body=None, headers=None):
        h = {"Content-Type": "application/json"} if body is not None else {}
        h.update(headers or {})
        try:
            self.c.request(method, target, body=body, headers=h)
            r = self.c.getresponse()
            self.content_type = r.getheader("Content-Type", "")
            return r.status, r.read()
        except (OSError, http.client.HTTPException) as e:
            self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return None, repr(e).encode()


def check_answer(what, status, data, content_type):
    """Below 500; an error, and anything that says it is JSON, parses as JSON."""
    if status is None or status >= 500:
        return fail(f"{what}: status {status}: {data[:200]!r}")
    if status in (204, 304) or not data or (status < 400 and not content_type.startswith("application/json")):
        return  # /metrics is Prometheus text, the rules page HTML, a CSV report CSV
    try:
        json.loads(data)
    except ValueError:
        fail(f"{what}: status {status}, {content_type} body is not JSON: {data[:200]!r}")


def check_cards(what, data):
    """The CDS Hooks 2.0 fields the service promises on every card."""
    seen = set()
    for c in json.loads(data).get("cards", None) or []:
        problems = []
        u = c.get("uuid", "")
        if len(u) != 36 or u in seen: problems.append("card uuid")
        seen.add(u)
        if not (0 < len(c.get("summary", "")) < 140): problems.append("summary length")
        if c.get("indicator") not in ("info", "warning", "critical"): problems.append("indicator")
        if not c.get("source", {}).get("label"): problems.append("source.label")
        if "suggestions" in c and c.get("selectionBehavior") not in ("at-most-one", "any"): problems.append("selectionBehavior")
        for s in c.get("suggestions", []):
            if not s.get("label") or s.get("uuid") in seen: problems.append("suggestion")
            seen.add(s.get("uuid"))
            for a in s.get("actions", []):
                if a.get("type") not in ("create", "update", "delete") or not a.get("description"): problems.append("action")
                if a.get("type") == "delete" and not re.match(r"^[A-Za-z]+/[A-Za-z0-9\-.]{1,64}$", a.get("resourceId", "")):
                    problems.append("delete resourceId")
                if a.get("type") == "create" and not isinstance(a.get("resource"), dict): problems.append("create resource")
        # Numbers from the record are printed as the record has them, never as a wrapped integer,
        # NaN or infinity.
        if re.search(r"9223372036854775808|\b(nan|inf|infinity)\b", c.get("detail", "") + c.get("summary", ""), re.I):
            problems.append("a number out of range in the card text")
        for o in c.get("overrideReasons", []):
            if not (o.get("code") and o.get("system") and o.get("display")): problems.append("overrideReason")
        if problems: fail(f"{what}: card {sorted(set(problems))}")


def paths(v, p=()):
    yield p
    if isinstance(v, dict):
        for k, x in v.items(): yield from paths(x, p + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v): yield from paths(x, p + (i,))


def get(v, p):
    for k in p: v = v[k]
    return v


WEIRD = [None, True, False, 0, -1, 1e308, -1e-308, 2 ** 64, 3.5, "", "x" * 70000, "\u0000\u001f\"\\",
         "\ud83d\ude00 caf\u00e9", [], {}, [None], {"": None}, "2026-13-45T99:99:99Z", "ServiceRequest/", "/",
         "urn:uuid:", "Patient/../x", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "\u202e",
         "{{plan}}", "[x](javascript:alert(1))"]
DATES = ["0001-01-01", "9999-12-31T23:59:59Z", "2026-11-25T12:00:00+14:00", "2026", "2026-02", "1970-01-01T00:00:00Z",
         "2026-11-25T12:00:00.123456789Z", "2100-01-01"]
NUMBERS = [0, -1, 1e308, 1e-308, 2 ** 53 + 1, -2 ** 63, 10, 11, 0.5]
CODES = ["M17.11", "M17.0", "Q4206", "0232T", "20610", "J7325", "239873007", ""]


def semantic(doc, rng):
    """Keeps the shape: dates, numbers, statuses and codes change; resources are copied between lists."""
    for p in [p for p in paths(doc) if p]:
        v, parent, k, r = get(doc, p), get(doc, p[:-1]), p[-1], rng.random()
        if isinstance(v, str) and re.match(r"^\d{4}(-\d\d)?(-\d\d)?(T.*)?$", v) and r < 0.3: parent[k] = rng.choice(DATES)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and r < 0.3: parent[k] = rng.choice(NUMBERS)
        elif k == "id" and isinstance(v, str) and r < 0.05: parent[k] = rng.choice(["x", "sr-amnio-1", "a" * 64, "pat-01"])
        elif k == "status" and r < 0.2: parent[k] = rng.choice(["active", "completed", "entered-in-error", "draft", "final"])
        elif k == "code" and isinstance(v, str) and r < 0.1: parent[k] = rng.choice(CODES)
    lists = [p for p in paths(doc) if isinstance(get(doc, p), list) and get(doc, p) and isinstance(get(doc, p)[0], dict)]
    if lists and rng.random() < 0.5:
        get(doc, rng.choice(lists)).append(copy.deepcopy(rng.choice(get(doc, rng.choice(lists)))))
    return doc


def structural(doc, rng):
    for _ in range(rng.randint(1, 4)):
        ps = [p for p in paths(doc) if p]
        if not ps: break
        p = rng.choice(ps)
        parent, k, op = get(doc, p[:-1]), p[-1], rng.random()
        if op < 0.3:
            del parent[k]
        elif op < 0.75:
            parent[k] = copy.deepcopy(rng.choice(WEIRD))
        elif op < 0.85 and isinstance(get(doc, p), list) and get(doc, p):
            lst = get(doc, p)
            lst.extend(copy.deepcopy(lst[0]) for _ in range(rng.randint(1, 50)))
        elif isinstance(parent, dict):
            parent[f"{k}x"] = copy.deepcopy(rng.choice(WEIRD))
    return doc


def load_fixtures(directory):
    """The hook requests under tests/fixtures/requests, in name order."""
    return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(directory, "*.json")))]
