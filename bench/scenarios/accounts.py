"""Account pages."""

from bench.harness import Scenario

SCENARIOS = [
    Scenario(name="login page (anonymous)", path="/login"),
]
