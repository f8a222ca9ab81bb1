#!/usr/bin/env python3
"""Latency of repeated GET requests over one keep-alive HTTP/1.1 connection (loopback).

http_bench.py --url http://127.0.0.1:PORT --token T --n 200 --warmup 10 \
    --ids 1-10000 name=/api/v1/devices?limit=50 name2=/api/v1/devices/{id}/metrics?...

`{id}` in a path is replaced by a device id drawn (seeded) from --ids for each request (a name may
carry its own range: `name@1-3=/path`); `{from24h}`, `{from30d}`, `{from365d}` and `{now}` by RFC 3339
times. Prints a JSON list: name, path, n, p50_ms, p99_ms,
mean_ms, max_ms, avg_bytes. Fails on any non-200 answer.
"""
import argparse
import datetime as dt
import http.client
import json
import random
import sys
import time
import urllib.parse

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--token", required=True)
p.add_argument("--n", type=int, default=200)
p.add_argument("--warmup", type=int, default=10)
p.add_argument("--ids", default="1-1")
p.add_argument("--max-seconds", type=float, default=120.0, help="per endpoint")
p.add_argument("endpoints", nargs="+")
a = p.parse_args()

u = urllib.parse.urlparse(a.url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
lo, hi = (int(x) for x in a.ids.split("-"))
rng = random.Random(8)
now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
times = {"now": fmt(now), "from24h": fmt(now - dt.timedelta(hours=24)),
         "from30d": fmt(now - dt.timedelta(days=30)),
         "from365d": fmt(now - dt.timedelta(days=365))}
headers = {"Authorization": f"Bearer {a.token}", "Accept-Encoding": "identity"}


def get(path, ids=None):
    a_lo, a_hi = ids or (lo, hi)
    path = path.replace("{id}", str(rng.randint(a_lo, a_hi)))
    for k, v in times.items():
        path = path.replace("{" + k + "}", v)
    t = time.perf_counter()
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    body = r.read()
    el = (time.perf_counter() - t) * 1000
    if r.status != 200:
        sys.exit(f"GET {path}: HTTP {r.status}: {body[:300]!r}")
    return el, len(body)


def pct(xs, q):
    xs = sorted(xs)
    k = max(1, -(-len(xs) * q // 100))
    return xs[int(k) - 1]


out = []
for ep in a.endpoints:
    name, path = ep.split("=", 1)
    ids = None
    if "@" in name:
        name, rng_s = name.split("@", 1)
        ids = tuple(int(x) for x in rng_s.split("-"))
    for _ in range(a.warmup):
        get(path, ids)
    lat, sizes = [], []
    start = time.time()
    for _ in range(a.n):
        el, n = get(path, ids)
        lat.append(el)
        sizes.append(n)
        if time.time() - start > a.max_seconds:
            break
    out.append({"name": name, "path": path, "n": len(lat),
                "p50_ms": round(pct(lat, 50), 2), "p99_ms": round(pct(lat, 99), 2),
                "mean_ms": round(sum(lat) / len(lat), 2), "max_ms": round(max(lat), 2),
                "avg_bytes": int(sum(sizes) / len(sizes))})
    print(f"http_bench: {out[-1]}", file=sys.stderr)
print(json.dumps(out))
