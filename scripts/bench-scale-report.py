#!/usr/bin/env python3
"""Prints scripts/bench-scale.sh's figures and goals from its work folder."""
import json
import os
import statistics
import sys

work = sys.argv[1]


def lines(name):
    path = os.path.join(work, name)
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def verdict(ok):
    return "met" if ok else "MISSED"


rounds = lines("rounds.jsonl")
print("\n## workloads (median of rounds)")
for key, name in (("single_bare", "bare handler, one token"), ("single_gh", "Gatehouse, one token"),
                  ("miss_ref", "pgref, uniform random"), ("miss_gh", "Gatehouse, uniform random"),
                  ("zipf_gh", "Gatehouse, Zipf s=1.1")):
    rows = [r[key] for r in rounds]
    print(f"{name:28} {med([x['rps'] for x in rows]):9.0f} rps  p50 {med([x['p50_ms'] for x in rows]):.2f} ms"
          f"  p99 {med([x['p99_ms'] for x in rows]):.2f} ms  errors {sum(x['errors'] for x in rows)}")
# Every request also checks the caller's own token, always a hit: those
# are taken out, so the rate is that of the tokens asked about.
for key, run, name in (("uniform_hits", "miss_gh", "uniform"), ("zipf_hits", "zipf_gh", "Zipf")):
    rates = [(h - r[run]["requests"]) / max(1, h - r[run]["requests"] + m) for r in rounds for h, m in [r[key]]]
    print(f"cache hit rate of the tokens asked about, {name}: {med(rates):.1%}")
miss = med([r["miss_gh"]["rps"] / r["miss_ref"]["rps"] for r in rounds])
single = med([r["single_gh"]["rps"] / r["single_bare"]["rps"] for r in rounds])
print(f"cache-miss path: Gatehouse/pgref {miss:.2f}x (goal >= 0.90x): {verdict(miss >= 0.9)}")
print(f"single token: Gatehouse/bare {single:.2f}x")

print("\n## memory")
for r in rounds:
    print(f"round {r['round']}: RSS {r['rss_mib']} MiB, heap in use {r['heap_inuse']/2**20:.1f} MiB of "
          f"{r['heap_sys']/2**20:.1f} MiB from the OS, cache {r['cache_entries']} entries, {r['cache_bytes']/2**20:.1f} MiB")
rss = [r["rss_mib"] for r in rounds]
soak = [s["rss_mib"] for s in lines("soak.jsonl")]
print(f"RSS max over the rounds {max(rss):.1f} MiB (goal <= 64): {verdict(max(rss) <= 64)}")
if soak:
    spread = (max(soak) - min(soak)) / min(soak)
    print(f"soak, RSS each minute: {soak}; spread {spread:.1%} (goal <= 10%): {verdict(spread <= 0.10 and max(soak) <= 64)}")

scale = lines("scale.jsonl")
if scale:
    print("\n## scale, cache off (median of rounds; Gatehouse also looks up the caller's own token, two queries a request to pgref's one)")
    by = {}
    for r in scale:
        by.setdefault(r["tokens"], []).append(r)
    rates = {}
    for n, rows in sorted(by.items()):
        rates[n] = med([x["gh"]["rps"] for x in rows])
        ref = med([x["ref"]["rps"] for x in rows])
        print(f"{n:>10} tokens: Gatehouse {rates[n]:8.0f} rps (p99 {med([x['gh']['p99_ms'] for x in rows]):.2f} ms), "
              f"pgref {ref:8.0f} rps, ratio {med([x['gh']['rps'] / x['ref']['rps'] for x in rows]):.2f}x")
    spread = (max(rates.values()) - min(rates.values())) / max(rates.values())
    print(f"spread over sizes {spread:.1%} (goal <= 10%): {verdict(spread <= 0.10)}")

rev = os.path.join(work, "revoke.json")
if os.path.exists(rev):
    r = json.load(open(rev))
    print(f"\n## revocation latency, {r['n']} revocations on A refused by B under load")
    print(f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms (goal p99 <= 100 ms): "
          f"{verdict(r['p99_ms'] <= 100)}")
errors = sum(r[k]["errors"] for r in rounds for k in ("single_bare", "single_gh", "miss_ref", "miss_gh", "zipf_gh"))
errors += sum(r[k]["errors"] for r in scale for k in ("ref", "gh"))
print(f"\nerrors: {errors}")
sys.exit(1 if errors else 0)
