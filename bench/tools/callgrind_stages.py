#!/usr/bin/env python3
"""Instructions per request of the whole service, split by stage, from a callgrind profile of
cds-service (all threads) that covers exactly N requests (counters zeroed once it was ready).

  callgrind_stages.py PROFILE N
Stages are inclusive costs of the functions that form one request's path (see README.md), so
they overlap where one calls another (JSON parse is inside "parse + validate"); "other" is the
whole minus the top-level stages: HTTP parsing, Asio, the kernel interface, logging."""
import re
import subprocess
import sys

# (label, function-name prefix as callgrind_annotate prints it, top-level?)
STAGES = [
    ("authenticate (JWT verify, replay cache)", "cds::Authenticator::authenticate(", True),
    ("parse + validate the CDS Hooks request", "cds::parse_hook_request(", True),
    ("  of which Boost.JSON parse (all callers)", "boost::json::parse(", False),
    ("rules::evaluate (decide, cards as JSON)", "rules::evaluate(", True),
    ("response body around the cards", "cds::hook_response_body[abi:cxx11](", True),
    ("audit writer thread (SQLite, group commit)", "cds::SqliteAuditStore::run(", True),
    ("WAL checkpointer thread", "cds::detail::WalCheckpointer::run(", True),
    ("other: HTTP read/parse/write, Asio, syscalls", None, False),
]


def main() -> int:
    path, n = sys.argv[1], int(sys.argv[2])
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    total = None
    cost = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        value, name = int(m.group(1).replace(",", "")), m.group(2)
        if name.startswith("PROGRAM TOTALS"):
            total = value
            continue
        name = name.split(":", 1)[1]  # callgrind_annotate prints FILE:FUNCTION
        for _, prefix, _ in STAGES:
            if prefix and name.startswith(prefix):
                cost[prefix] = max(cost.get(prefix, 0), value)  # a recursive name appears twice
    if not total:
        print("callgrind_stages: no PROGRAM TOTALS in the profile", file=sys.stderr)
        return 1
    top = sum(cost.get(p, 0) for _, p, t in STAGES if t)
    print(f"instructions per request, whole service, all threads: {total / n / 1e6:.2f} M ({n} requests)")
    for label, prefix, _ in STAGES:
        value = cost.get(prefix, 0) if prefix else total - top
        print(f"  {label:<46} {value / n / 1e3:8.0f} k  {100 * value / total:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
