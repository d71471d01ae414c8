#!/usr/bin/env python3
"""Loopback servers for the sandbox end-to-end test, both answering CORS:

- a static server for the vendored CDS Hooks Sandbox build (read-only, outside the repository);
- a small FHIR R4 server: metadata, Patient/{id}, and Condition/Procedure/Observation searches by
  patient, answered from one fixture request's prefetch. Dates are moved by a whole number of days
  so that the record stands to the real clock as it stands to the fixture's "now" (the cards
  depend on how long ago the injection was).

Prints one line of JSON with both ports, then serves until killed or until --lifetime-s passes.
Every request is logged to --log (one JSON line each) so the test can assert what the sandbox read.
"""
import argparse
import datetime
import json
import os
import re
import sys
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, BaseHTTPRequestHandler, ThreadingHTTPServer

DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(.*)$")


def shift_dates(value, days):
    if isinstance(value, dict):
        return {k: shift_dates(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_dates(v, days) for v in value]
    if isinstance(value, str):
        m = DATE.match(value)
        if m:
            try:
                d = datetime.date(int(m[1]), int(m[2]), int(m[3])) + datetime.timedelta(days=days)
                return d.isoformat() + m[4]
            except ValueError:
                return value
    return value


class Fhir:
    def __init__(self, fixture_path, now):
        fixture = json.load(open(fixture_path))
        expected = json.load(open(fixture_path.replace("/requests/", "/expected/")))
        fixture_now = datetime.datetime.fromisoformat(expected["now"].replace("Z", "+00:00")).date()
        days = (now - fixture_now).days
        prefetch = shift_dates(fixture["prefetch"], days)
        self.patient = prefetch["patient"]
        self.patient_id = self.patient["id"]
        self.by_type = {}
        for key in ("conditions", "procedures", "observations"):
            for e in prefetch[key].get("entry", []):
                r = e["resource"]
                self.by_type.setdefault(r["resourceType"], []).append(r)

    def answer(self, path, query):
        if path == "metadata":
            return 200, {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
                         "fhirVersion": "4.0.1", "format": ["json"],
                         "rest": [{"mode": "server", "resource": [
                             {"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}]}
                             for t in ("Patient", "Condition", "Procedure", "Observation")]}]}
        parts = path.split("/")
        if len(parts) == 2 and parts[0] == "Patient":
            if parts[1] == self.patient_id:
                return 200, self.patient
            return 404, {"resourceType": "OperationOutcome",
                         "issue": [{"severity": "error", "code": "not-found"}]}
        if len(parts) == 1 and parts[0] in ("Condition", "Procedure", "Observation", "MedicationRequest"):
            patient = (query.get("patient") or query.get("subject") or [""])[0].removeprefix("Patient/")
            found = self.by_type.get(parts[0], []) if patient == self.patient_id else []
            return 200, {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                         "entry": [{"fullUrl": f"{parts[0]}/{r['id']}", "resource": r, "search": {"mode": "match"}}
                                   for r in found]}
        return 404, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-supported"}]}


def cors(handler):
    origin = handler.headers.get("Origin")
    handler.send_header("Access-Control-Allow-Origin", origin or "*")
    handler.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
    handler.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
    handler.send_header("Vary", "Origin")


def make_log(path):
    lock = threading.Lock()

    def write(server, method, target, status):
        with lock, open(path, "a") as f:
            f.write(json.dumps({"server": server, "method": method, "target": target, "status": status}) + "\n")
    return write


def serve(fhir, static_root, log):
    class FhirHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_OPTIONS(self):
            self.send_response(204)
            cors(self)
            self.send_header("Content-Length", "0")
            self.end_headers()
            log("fhir", "OPTIONS", self.path, 204)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            self.reply(url.path, urllib.parse.parse_qs(url.query))

        def do_POST(self):  # FHIR search by POST: Type/_search with a form-encoded body
            url = urllib.parse.urlsplit(self.path)
            length = min(int(self.headers.get("Content-Length") or 0), 65536)
            query = urllib.parse.parse_qs(url.query)
            query.update(urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace")))
            self.reply(url.path.removesuffix("/_search"), query, "POST")

        def reply(self, url_path, query, method="GET"):
            path = url_path.removeprefix("/fhir").strip("/")
            status, body = fhir.answer(path, query)
            data = json.dumps(body).encode()
            self.send_response(status)
            cors(self)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            log("fhir", method, self.path, status)

    class StaticHandler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=static_root, **kwargs)

        def log_message(self, *args):
            pass

        def end_headers(self):
            cors(self)
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

    fhir_server = ThreadingHTTPServer(("127.0.0.1", 0), FhirHandler)
    static_server = ThreadingHTTPServer(("127.0.0.1", 0), StaticHandler)
    for s in (fhir_server, static_server):
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    return fhir_server.server_address[1], static_server.server_address[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sandbox", required=True, help="the sandbox's build/ folder")
    p.add_argument("--fixture", required=True, help="a fixture request whose prefetch is the patient's record")
    p.add_argument("--log", required=True)
    p.add_argument("--lifetime-s", type=float, default=600)
    a = p.parse_args()
    if not os.path.isfile(os.path.join(a.sandbox, "index.html")):
        sys.exit(f"servers.py: no sandbox build at {a.sandbox}")
    fhir = Fhir(a.fixture, datetime.datetime.now(datetime.timezone.utc).date())
    fhir_port, static_port = serve(fhir, a.sandbox, make_log(a.log))
    print(json.dumps({"fhir_port": fhir_port, "static_port": static_port, "patient": fhir.patient_id}), flush=True)
    threading.Event().wait(a.lifetime_s)  # bounded: never outlives a forgotten test


if __name__ == "__main__":
    main()
