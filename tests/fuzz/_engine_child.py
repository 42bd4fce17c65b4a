"""The engine side of the fuzzer; run as a script by tests/fuzz/engine.py, in a fresh interpreter.

Its network is deliberately left open. It imports nothing from the project (so it starts in
well under a second and the parent decides what it runs). Protocol, JSON lines:

  stdin  line 1: {"turtle": ..., "prefixes": {...}, "max_rows": N, "memory": bytes, "stack": bytes}
  stdout line 1: {"ready": triples}
  stdin  then  : {"i": id, "q": query text}          one per query
  stdout then  : {"i": id, "r": "ok"|"syntax"|"error", "n": rows, "m": message, "t": end time}

"t" is time.monotonic() when the query finished (CLOCK_MONOTONIC is shared by every process on
Linux), so the parent times each query exactly, however long it took to read the answer.
"""

import json
import resource
import sys
import time


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout
    setup = json.loads(stdin.readline())
    if setup.get("stack"):  # the main thread's stack, where the engine parses: as in production
        soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
        limit = setup["stack"] if hard == resource.RLIM_INFINITY else min(setup["stack"], hard)
        resource.setrlimit(resource.RLIMIT_STACK, (limit, hard))
    import pyoxigraph as ox

    store = ox.Store()
    store.load(setup["turtle"].encode(), format=ox.RdfFormat.TURTLE)
    if setup.get("memory"):
        resource.setrlimit(resource.RLIMIT_AS, (setup["memory"], setup["memory"]))
    prefixes, max_rows = setup["prefixes"], setup["max_rows"]
    stdout.write(json.dumps({"ready": len(store)}) + "\n")
    stdout.flush()
    for line in stdin:
        job = json.loads(line)
        rows, kind, message = 0, "ok", ""
        try:
            result = store.query(job["q"], prefixes=prefixes)
            if not isinstance(result, ox.QueryBoolean):
                for _ in result:
                    rows += 1
                    if rows >= max_rows:
                        break
        except SyntaxError as e:
            kind, message = "syntax", str(e)
        except Exception as e:  # noqa: BLE001 - every other engine error is one outcome
            kind, message = "error", f"{type(e).__name__}: {e}"
        stdout.write(json.dumps({"i": job["i"], "r": kind, "n": rows, "m": message[:300],
                                 "t": time.monotonic()}) + "\n")
        stdout.flush()


if __name__ == "__main__":
    main()
