#!/usr/bin/env python3
"""Clients for the fault tests (tests/smoke/fault_*.sh) and the soak (bench/soak/), against the
real cds-service on loopback. Standard library only.

  load   N threads, each on its own keep-alive connection, post order-sign calls with distinct
         hookInstances for S seconds (or until the service is gone); one line per call to --out:
         "<hookInstance> <status> <milliseconds>" (status 000: no answer, the connection failed).
  hold   open N idle TCP connections and hold them (a flood that never sends a byte); writes
         how many are open to --ready once connected, exits after S seconds or when killed.
  call   one order-sign call on a fresh connection: prints "<status> <milliseconds>".
  slow   one call whose body arrives in two halves --pause seconds apart (a call in progress
         across a signal); writes --ready after the first half; prints "<status>".
"""
import argparse
import http.client
import json
import os
import resource
import socket
import ssl
import sys
import threading
import time


def tls_context(args):
    if args.no_tls:
        return None
    ctx = ssl.create_default_context(cafile=args.ca)
    return ctx


def connect(args, timeout):
    if args.no_tls:
        return http.client.HTTPConnection("127.0.0.1", args.port, timeout=timeout)
    return http.client.HTTPSConnection("127.0.0.1", args.port, timeout=timeout, context=tls_context(args))


def body_for(template, original, hook_instance):
    return template.replace(original, hook_instance).encode()


def read_fixture(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text, json.loads(text)["hookInstance"]


PATH = "/cds-services/knee-oa-order-sign"


def post(conn, body):
    conn.request("POST", PATH, body=body, headers={"Content-Type": "application/json"})
    res = conn.getresponse()
    res.read()
    return res.status


def load(args):
    template, original = read_fixture(args.fixture)
    deadline = time.monotonic() + args.seconds
    out = open(args.out, "a", buffering=1, encoding="utf-8")
    lock = threading.Lock()
    gone = threading.Event()

    def worker(n):
        conn = None
        i = 0
        failures_in_a_row = 0
        interval = args.threads / args.rate if args.rate > 0 else 0
        next_call = time.monotonic() + interval * (n - 1) / args.threads
        while time.monotonic() < deadline and not gone.is_set():
            if interval:
                delay = next_call - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                next_call = max(next_call + interval, time.monotonic() - interval)
            i += 1
            hook_instance = f"{args.prefix}-{n}-{i}"
            started = time.monotonic()
            try:
                if conn is None:
                    conn = connect(args, args.timeout)
                status = post(conn, body_for(template, original, hook_instance))
                failures_in_a_row = 0
            except (OSError, http.client.HTTPException):
                status = 0
                if conn is not None:
                    conn.close()
                conn = None
                failures_in_a_row += 1
            ms = int((time.monotonic() - started) * 1000)
            with lock:
                out.write(f"{hook_instance} {status:03d} {ms}\n")
            if status == 0 and failures_in_a_row >= args.give_up_after:
                gone.set()  # the service is gone (killed): stop
            elif status == 0:
                time.sleep(0.05)
            elif args.pause:
                time.sleep(args.pause)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, args.threads + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()


def hold(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.count + 64)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    held = []
    deadline = time.monotonic() + args.seconds
    for _ in range(args.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", args.port))
            held.append(s)
        except OSError:
            s.close()
    if args.ready:
        with open(args.ready + ".tmp", "w", encoding="utf-8") as f:
            f.write(f"{len(held)}\n")
        os.replace(args.ready + ".tmp", args.ready)
    while time.monotonic() < deadline:
        time.sleep(0.2)
    for s in held:
        s.close()


def call(args):
    template, original = read_fixture(args.fixture)
    started = time.monotonic()
    try:
        conn = connect(args, args.timeout)
        status = post(conn, body_for(template, original, args.hook_instance))
        conn.close()
    except (OSError, http.client.HTTPException):
        status = 0
    print(f"{status:03d} {int((time.monotonic() - started) * 1000)}")


def slow(args):
    template, original = read_fixture(args.fixture)
    body = body_for(template, original, args.hook_instance)
    try:
        conn = connect(args, args.timeout)
        conn.putrequest("POST", PATH)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        half = len(body) // 2
        conn.send(body[:half])
        with open(args.ready, "w", encoding="utf-8") as f:
            f.write("sent half\n")
        time.sleep(args.pause)
        conn.send(body[half:])
        res = conn.getresponse()
        res.read()
        status = res.status
    except (OSError, http.client.HTTPException):
        status = 0
    print(f"{status:03d}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["load", "hold", "call", "slow"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", help="CA file for TLS")
    p.add_argument("--no-tls", action="store_true")
    p.add_argument("--fixture", help="order-sign request to post (its hookInstance is replaced)")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--pause", type=float, default=0, help="load: seconds between a thread's calls; slow: between halves")
    p.add_argument("--rate", type=float, default=0, help="load: calls per second in all (paced; 0: as fast as answered)")
    p.add_argument("--give-up-after", type=int, default=20, help="load: consecutive failed connections that end it")
    p.add_argument("--out", help="load: answers file (appended)")
    p.add_argument("--prefix", default="load", help="load: hookInstance prefix")
    p.add_argument("--count", type=int, default=100, help="hold: connections")
    p.add_argument("--ready", help="hold/slow: file written once the flood is up / the first half sent")
    p.add_argument("--hook-instance", default="single-call", help="call/slow: the hookInstance")
    args = p.parse_args()
    {"load": load, "hold": hold, "call": call, "slow": slow}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
