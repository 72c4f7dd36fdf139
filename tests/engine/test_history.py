"""The engine's metric history: bounded rings at three resolutions, windows read relative to
now, a run's rates compacted to a fixed number of points; and the engine's API returning them."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from roocode_tui.core.errors import UsageError
from roocode_tui.core.monitor.history import BUCKETS, MetricHistory, Ring, RunRates, SeriesSpec


def one_series() -> MetricHistory:
    return MetricHistory([SeriesSpec("x", "x", "u"), SeriesSpec("tokens_per_s", "t", "tokens/s")], clock=lambda: 0.0)


def test_memory_is_fixed_whatever_the_uptime():
    h = MetricHistory()
    before = h.nbytes()
    for t in range(0, 3 * 24 * 3600, 7):  # three days of samples (every 7 s: fast enough here)
        for name in h.series:
            h.add(name, t % 100, t)
    assert h.nbytes() == before
    assert before == len(h.series) * 3 * BUCKETS * 5 * 8  # 36 KB a series
    shown = h.window("6h", now=3 * 24 * 3600)
    assert all(len(s["points"]) <= BUCKETS for s in shown["series"].values())


def test_each_window_has_its_own_resolution_and_span():
    h = one_series()
    for t in range(1000):
        h.add("x", float(t), t + 0.5)
    now = 999.9
    five = h.window("5m", now)["series"]["x"]["points"]
    assert len(five) == 300  # 1 s buckets, the last 300 s only
    assert five[0] == [pytest.approx(700 - now), 700.0, 700.0, 700.0] and five[-1][1] == 999.0
    hour = h.window("1h", now)
    assert hour["step_s"] == 12.0 and hour["span_s"] == 3600.0
    points = hour["series"]["x"]["points"]
    assert len(points) == 84  # 1000 s in 12 s buckets
    assert points[0] == [round(0 - now, 3), 5.5, 0.0, 11.0]  # mean, min, max of samples 0..11
    assert points[1][1:] == [17.5, 12.0, 23.0]
    six = h.window("6h", now)["series"]["x"]["points"]
    assert six[0][1:] == [35.5, 0.0, 71.0] and len(six) == 14
    with pytest.raises(ValueError):
        h.window("2d", now)


def test_old_buckets_leave_the_window_and_gaps_stay_gaps():
    h = one_series()
    h.add("x", 1.0, 14.0)
    h.add("x", None, 15.0)  # not measured: a gap, not a zero
    h.add("x", float("nan"), 16.0)
    h.add("x", 3.0, 17.0)
    assert [p[1] for p in h.window("5m", 20.0)["series"]["x"]["points"]] == [1.0, 3.0]
    # 10 minutes later nothing was sampled: the 5-minute window is empty, the hour still has them
    assert h.window("5m", 620.0)["series"]["x"]["points"] == []
    assert [p[1] for p in h.window("1h", 620.0)["series"]["x"]["points"]] == [2.0]
    # a slot that comes round again holds the new bucket, not the old one
    h.add("x", 7.0, 314.0)  # slot 14 again (314 % 300)
    assert [p[1] for p in h.window("5m", 320.0)["series"]["x"]["points"]] == [7.0]


def test_a_ring_reports_its_size():
    assert Ring(1.0).nbytes() == BUCKETS * 5 * 8


def test_the_best_recent_rate_is_a_sustained_one():
    h = one_series()
    assert h.best("tokens_per_s", 0.0) is None
    for t in range(600):
        rate = 1000.0 if 240 <= t < 252 else 100.0  # 12 s at 1000 tokens/s
        rate = 5000.0 if t == 300 else rate  # a 1 s burst (one big batch finished)
        h.add("tokens_per_s", rate, float(t))
    assert h.best("tokens_per_s", 600.0) == 1000.0  # the burst's bucket: (5000 + 11 x 100) / 12
    assert h.window("5m", 600.0)["best_tokens_per_s"] == 1000.0
    assert h.best("tokens_per_s", 600.0 + 3600.0) is None  # an hour later it is forgotten


def test_run_rates_stay_within_their_limit_and_keep_the_level():
    rates = RunRates(limit=240)
    for s in range(10_000):
        rates.add(float(s), 5.0, 1000.0 if s < 5000 else 2000.0)
    data = rates.to_json()
    assert len(data["points"]) < 240 and data["step_s"] == 64.0
    assert data["points"][0][0] == 0.0 and data["points"][-1][0] > 9000  # from the start to now
    assert {p[1] for p in data["points"]} == {5.0}
    assert data["points"][1][2] == 1000.0 and data["points"][-2][2] == 2000.0
    short = RunRates()
    short.add(0.5, 1.0, 2.0)
    assert short.to_json() == {"step_s": 1.0, "points": [[0.5, 1.0, 2.0]]}


async def test_the_in_process_engine_serves_the_history_it_was_given():
    from roocode_tui.core.config import Settings
    from roocode_tui.engine.local import LocalEngine

    fixed = MetricHistory(clock=lambda: 5000.5)
    for t in range(4701, 5001):
        fixed.add("gpu_util", 50.0, float(t))
    engine = LocalEngine(Settings(), history=fixed)
    try:
        shown = await engine.history("5m")
        assert len(shown["series"]["gpu_util"]["points"]) == 300 and shown["window"] == "5m"
        assert shown["series"]["gpu_util"]["unit"] == "%"
        only = await engine.history("1h", names=["gpu_util"])
        assert (
            list(only["series"]) == ["gpu_util"] and len(only["series"]["gpu_util"]["points"]) == 26
        )  # 12 s buckets 4692..4992
        with pytest.raises(UsageError):
            await engine.history("1d")
        assert engine.sampler._task is None  # a history given is fed by its maker, not sampled
    finally:
        await engine.aclose()


async def test_the_sampler_turns_run_counters_into_rates():
    from roocode_tui.engine.sampler import Sampler

    progress = SimpleNamespace(chunks_embedded=0, tokens_embedded=0, active=True, elapsed=0.0, collection="c")
    run = SimpleNamespace(id="r1", kind="index", progress=progress)
    stats = SimpleNamespace(requests=0, latencies_s=[])
    engine = SimpleNamespace(
        all_runs=lambda: [run],
        open_embedder=lambda: SimpleNamespace(stats=stats),
        settings=SimpleNamespace(embedder=SimpleNamespace(provider="local")),
    )
    history = MetricHistory(clock=lambda: 0.0)
    sampler = Sampler(engine, history, gpu_reader=lambda: ([], "none"))
    for second in range(1, 6):
        progress.chunks_embedded += 4
        progress.tokens_embedded += 400
        progress.elapsed = float(second)
        stats.requests += 2
        stats.latencies_s += [0.010 * second, 0.020 * second]
        sampler.sample_engine(float(second))
    await sampler._sample_gpu(6.0)  # no GPU: nothing, and not asked again for a minute
    assert sampler._skip_until["gpu"] == 66.0
    shown = history.window("5m", 5.5)["series"]
    assert [p[1] for p in shown["chunks_per_s"]["points"]] == [4.0] * 5
    assert [p[1] for p in shown["tokens_per_s"]["points"]] == [400.0] * 5
    assert shown["latency_p95"]["points"][-1][1] == 100.0  # the requests of that second only
    assert shown["gpu_util"]["points"] == []
    assert sampler.rates["r1"].to_json()["points"][0] == [1.0, 4.0, 400.0]
    await asyncio.sleep(0)


def test_a_served_engine_keeps_the_history_for_faces_that_come_later(box, corpus, embed_server):
    """A real engine process samples from its start; after an index run a face asks over the
    socket and sees the run's chunks/s, the requests' latency, vLLM's queue and the run's rates."""
    import httpx

    embed_server.faults.delay_s = 0.2  # ten requests one at a time: a run of a few seconds
    box.serve()
    done = box.cli("index", str(corpus), "-c", "demo", "--json")
    assert done.returncode == 0, done.stderr
    run_id = box.run_of("demo")["id"]
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(box.socket)), base_url="http://engine") as http:

        def history(**params: str) -> dict:
            resp = http.get("/history", params=params)
            assert resp.status_code == 200, resp.text
            return resp.json()

        def points(name: str) -> list:
            return history(window="5m")["series"][name]["points"]

        expected = json.loads(done.stdout)["chunks_embedded"]
        # 1 s buckets of chunks/s add up to the chunks embedded, once the sample after the run's end is in
        box.wait_for(lambda: sum(p[1] for p in points("chunks_per_s")) == expected, "the run's chunks/s")
        box.wait_for(lambda: points("latency_p95") and points("vllm_running"), "latency and vLLM's queue")
        shown = history(window="5m", run=run_id)
        assert expected > 0 and max(p[1] for p in shown["series"]["chunks_per_s"]["points"]) < expected
        assert shown["best_tokens_per_s"] > 0 and shown["series"]["latency_p50"]["unit"] == "ms"
        assert shown["run"]["id"] == run_id and shown["run"]["points"], "the run's rates while it ran"
        only = history(window="6h", series="gpu_util")
        assert list(only["series"]) == ["gpu_util"] and only["step_s"] == 72.0
        bad = http.get("/history", params={"window": "2d"})
        assert bad.status_code == 400 and "window must be one of 5m, 1h, 6h" in bad.json()["error"]["message"]
