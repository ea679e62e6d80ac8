"""protocol.py against src/core/protocol.ts: the same field names, and only valid JSON lines."""
import io
import json
import re

from conftest import COUNTER_NULLABLE, COUNTER_NUMBERS, ERROR_KINDS, PROTOCOL_TS, parse_events
from efficientllm_harness import protocol


def ts_interface_fields(name):
    text = open(PROTOCOL_TS, encoding="utf-8").read()
    body = re.search(r"export interface %s \{(.*?)\n\}" % name, text, re.S).group(1)
    return set(re.findall(r"^\s+(\w+)\??:", body, re.M))


def python_fields(cls):
    return {protocol.camel(f) for f in cls.__dataclass_fields__}


def test_counters_match_protocol_ts():
    assert python_fields(protocol.ResultCounters) == ts_interface_fields("ResultCounters")
    # The validator lists in conftest mirror the TS ones.
    text = open(PROTOCOL_TS, encoding="utf-8").read()
    for const, mine in (("COUNTER_NUMBERS", COUNTER_NUMBERS), ("COUNTER_NULLABLE", COUNTER_NULLABLE)):
        body = re.search(r"const %s = \[(.*?)\]" % const, text, re.S).group(1)
        assert set(re.findall(r"'(\w+)'", body)) == set(mine)


def test_hello_and_error_kinds_match_protocol_ts():
    assert python_fields(protocol.Hello) | {"type", "protocol"} == ts_interface_fields("HelloEvent")
    assert python_fields(protocol.DeviceInfo) == ts_interface_fields("DeviceInfo")
    text = open(PROTOCOL_TS, encoding="utf-8").read()
    kinds = re.search(r"ERROR_KINDS = \[(.*?)\]", text).group(1)
    assert tuple(re.findall(r"'([\w-]+)'", kinds)) == protocol.ERROR_KINDS == ERROR_KINDS
    assert f"PROTOCOL_VERSION = {protocol.PROTOCOL_VERSION};" in text


def test_writer_round_trip_maps_nan_and_infinity_to_null():
    out = io.StringIO()
    w = protocol.EventWriter(out)
    w.hello(protocol.Hello("3.11", "2.4", None, protocol.DeviceInfo("cpu", 1), False, None, "rss-delta", "rss-delta"))
    w.progress("measure", 1, 2)
    w.sample(1.5, 100, None, float("nan"))
    counters = protocol.ResultCounters(
        params=1, active_params=1, trainable_params=0, weight_bytes=4, reference_weight_bytes=2,
        kv_cache_bytes=None, optimizer_state_bytes=None, peak_memory_bytes=10, iterations=1,
        iteration_s=[0.1], tokens_per_iteration=3, generated_tokens_per_iteration=1, ttft_s=float("inf"),
        tpot_s=None, window_start_t=0.0, window_end_t=1.0, energy_j=None, quality=None, loss=float("nan"))
    w.result(counters)
    w.error("oom", "CUDA out of memory")
    events = parse_events(out.getvalue())
    assert [e["type"] for e in events] == ["hello", "progress", "sample", "result", "error"]
    assert events[2]["powerW"] is None
    assert events[3]["counters"]["ttftS"] is None and events[3]["counters"]["loss"] is None
    assert "NaN" not in out.getvalue() and "Infinity" not in out.getvalue()
    assert json.loads(out.getvalue().splitlines()[0])["protocol"] == 1


def test_rank_counters_match_protocol_ts():
    assert python_fields(protocol.RankCounters) == ts_interface_fields("RankCounters")
