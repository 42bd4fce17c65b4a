"""A differential fuzzer for kg/safety.py: the static check against the engine it guards.

Every generated or mutated query goes through `check_query`; each accepted one runs, as the
canonical text the check returns, in an engine process whose network is *open* towards a loopback
server that counts every connection (`netwatch`). The check is right when nothing it accepts
makes the engine connect anywhere or crash it, and when it raises nothing but `QueryRefused`.

* `netwatch`  - the loopback logging server (raw TCP accept counter and HTTP request log);
* `engine`    - the engine runner: a fresh interpreter holding a small pyoxigraph store, fed JSON
                lines, killed and restarted on a timeout or a crash; optionally under
                `strace -e trace=connect`, which also sees connections to any other host;
* `generate`  - a grammar-based generator of SPARQL queries (seeded `random.Random`);
* `mutate`    - seed queries (the example queries, the known bypasses) and their mutations;
* `harness`   - the loop that ties them together and counts.
"""
