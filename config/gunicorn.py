"""gunicorn settings for production: sync workers, one per core by default.

Chosen by measurement (`make bench-workers`, docs/benchmarks.md "Worker model"): on the
bench's 2 cores, in the two runs on a quiet machine, 2 sync workers served the session POST
with the lowest p99 of the candidates (163 and 173 ms, against 259 and 582 ms for 3 workers
x 4 threads, the former default) at about the same throughput, and the programme GET about
as fast; an ASGI worker (uvicorn) served less than half, as Django runs these sync views in
a thread anyway. Threads only add GIL contention here: a request is mostly Python, and the
database answers in about a millisecond. Sync workers do not hold keep-alive connections:
run them behind a buffering proxy (a load balancer or nginx). With PostgreSQL on a machine of
its own a worker waits longer per request: raise GUNICORN_WORKERS towards 2 per core, and
measure (docs/scaling.md)."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(os.cpu_count() or 2)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# gunicorn's default, stated because openapi.yaml documents it (414 on operations with a query).
limit_request_line = 4094
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
