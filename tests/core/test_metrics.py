from roocode_tui.core.monitor.metrics import VllmMonitor, parse_prometheus, percentile

SAMPLE = """# HELP vllm:num_requests_running Number of requests.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{model_name="Qwen/Qwen3-Embedding-8B"} 3.0
vllm:num_requests_waiting{model_name="Qwen/Qwen3-Embedding-8B"} 12.0
vllm:gpu_cache_usage_perc{model_name="Qwen/Qwen3-Embedding-8B"} 0.42
vllm:prompt_tokens_total{model_name="Qwen/Qwen3-Embedding-8B"} 1000.0
vllm:e2e_request_latency_seconds_bucket{le="0.3",model_name="x"} 4.0
process_cpu_seconds_total 12.5
"""


def test_prometheus_text_is_parsed():
    m = parse_prometheus(SAMPLE)
    assert m["vllm:num_requests_running"] == 3 and m["vllm:num_requests_waiting"] == 12
    assert m["process_cpu_seconds_total"] == 12.5


def test_monitor_turns_the_token_counter_into_a_rate_and_reads_old_cache_name():
    mon = VllmMonitor("http://gpu:8000/v1")
    assert mon.root == "http://gpu:8000"
    first = mon.reading(True, SAMPLE, now=100.0)
    assert first.running == 3 and first.waiting == 12 and first.kv_cache == 0.42
    assert first.prompt_tokens_per_s is None  # a rate needs two readings
    second = mon.reading(True, SAMPLE.replace("1000.0", "6000.0"), now=102.0)
    assert second.prompt_tokens_per_s == 2500.0


def test_not_a_vllm_server_says_so():
    assert "not a vLLM server" in VllmMonitor("http://x").reading(True, "up 1\n").error


def test_percentile():
    assert percentile([], 0.5) is None
    assert percentile([5, 1, 3], 0.5) == 3 and percentile(list(range(101)), 0.95) == 95
