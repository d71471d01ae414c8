#!/usr/bin/env python3
"""POSTs the benchmark request N times, one at a time, on one keep-alive connection, a fresh
token from the pool per request; exits non-zero unless every answer is a 200.

  post_sequential.py --port P --path /cds-services/... --body FILE --tokens FILE --count N
                     [--cacert CA.crt]   (HTTPS, checked against that CA; plain HTTP without it)
Used by bench/load.sh's callgrind variant (a service under valgrind, so no wrk: its time-outs
and concurrency would only measure valgrind)."""
import argparse
import http.client
import ssl
import sys


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--body", required=True)
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--cacert")
    args = ap.parse_args()
    body = open(args.body, "rb").read()
    tokens = open(args.tokens).read().split()
    if len(tokens) < args.count:
        print(f"post_sequential: {len(tokens)} tokens for {args.count} requests", file=sys.stderr)
        return 2
    if args.cacert:
        ctx = ssl.create_default_context(cafile=args.cacert)
        conn = http.client.HTTPSConnection("127.0.0.1", args.port, timeout=60, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
    for i in range(args.count):
        conn.request("POST", args.path, body,
                     {"Content-Type": "application/json", "Authorization": "Bearer " + tokens[i]})
        res = conn.getresponse()
        answer = res.read()
        if res.status != 200:
            print(f"post_sequential: request {i} answered {res.status}: {answer[:300]!r}", file=sys.stderr)
            return 1
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
