"""Benchmarks: chat-turn latency and triage throughput, run with `make bench`."""
