"""EfficientLLM Profiler harness: builds a model, runs one profiling config, reports JSON lines.

Run it as `python -m efficientllm_harness --config config.json` (see __main__.py). The event
format is harness protocol v1, mirrored from src/core/protocol.ts.
"""
