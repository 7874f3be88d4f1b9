"""Benchmark scenarios: each module here defines SCENARIOS, a list of bench.harness.Scenario."""
