"""Pages every visitor sees."""

from bench.harness import Scenario

SCENARIOS = [
    Scenario(name="home page (anonymous)", path="/"),
]
