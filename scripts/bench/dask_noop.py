"""No-op DAGs on Dask distributed, for scripts/bench/dask-compare.mjs.

Usage: /usr/bin/python3 dask_noop.py <shape> [<shape> ...]
  shape: "wide:N" (N independent tasks) or "chains:C:L" (C chains of L tasks).
Starts a LocalCluster of 4 worker processes x 1 thread, warms it up, then runs
each shape once and prints one JSON line per shape:
  {"shape": ..., "tasks": N, "seconds": wall from first submit to all done}
"""
import json
import sys
import time

from distributed import Client, LocalCluster, wait


def noop(*_deps):
    return None


def run(client, shape):
    parts = shape.split(":")
    t0 = time.perf_counter()
    if parts[0] == "wide":
        n = int(parts[1])
        futures = [client.submit(noop, pure=False) for _ in range(n)]
    elif parts[0] == "chains":
        chains, length = int(parts[1]), int(parts[2])
        n = chains * length
        futures = []
        for _ in range(chains):
            prev = client.submit(noop, pure=False)
            futures.append(prev)
            for _ in range(length - 1):
                prev = client.submit(noop, prev, pure=False)
                futures.append(prev)
    else:
        raise SystemExit(f"unknown shape {shape}")
    wait(futures)
    seconds = time.perf_counter() - t0
    errors = sum(1 for f in futures if f.status != "finished")
    del futures
    return {"shape": shape, "tasks": n, "seconds": seconds, "errors": errors}


def main():
    with LocalCluster(
        n_workers=4, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster, Client(cluster) as client:
        run(client, "wide:500")  # warm-up: worker imports, connections
        for shape in sys.argv[1:]:
            print(json.dumps(run(client, shape)), flush=True)


if __name__ == "__main__":
    main()
