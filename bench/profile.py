"""Profile one HTTP scenario in process (no network, no load generator), on the bench's
PostgreSQL data: mean milliseconds and queries per request, then cProfile's top functions.

    .venv/bin/python -m bench.profile session_post [--requests 200] [--top 30]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.run import prepare_http_data


def scenarios(fixture: dict[str, Any]) -> dict[str, Callable[[Any], Any]]:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    patient = {"HTTP_AUTHORIZATION": f"Bearer {fixture['patient_token']}"}
    physio = {"HTTP_AUTHORIZATION": f"Bearer {fixture['physio_token']}"}
    template = json.dumps(fixture["session_body"])
    replay_id = str(uuid.uuid4())

    def post(client_id: str) -> Any:
        body = template.replace("__CLIENT_ID__", client_id)
        return client.post("/api/v1/sessions/", body, content_type="application/json", **patient)

    return {
        "session_post": lambda _: post(str(uuid.uuid4())),
        "session_replay": lambda _: post(replay_id),
        "programme_get": lambda _: client.get("/api/v1/programmes/current/", **patient),
        "programme_304": lambda _: client.get(
            "/api/v1/programmes/current/", HTTP_IF_NONE_MATCH=fixture["etag"], **patient
        ),
        "patients_list": lambda _: client.get("/api/v1/patients/", **physio),
        "alerts_list": lambda _: client.get("/api/v1/alerts/", **physio),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    fixture = prepare_http_data()
    run = scenarios(fixture)[args.scenario]
    from django.db import connection

    for i in range(20):  # warm caches, connections and imports
        response = run(i)
    assert response.status_code < 400, response.content  # noqa: S101
    captured: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper, not CaptureQueriesContext: each request resets the query log.
    with connection.execute_wrapper(record):
        run(-1)
    started = time.perf_counter()
    for i in range(args.requests):
        run(i)
    elapsed = time.perf_counter() - started
    print(
        f"{args.scenario}: {1000 * elapsed / args.requests:.2f} ms per request, "
        f"{len(captured)} queries, status {response.status_code}"
    )
    for sql in captured:
        print("   ", sql[:160])
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(args.requests):
        run(i)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
