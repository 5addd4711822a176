"""What builds workspaces to measure them: benchmarks, evaluations, the simulator's front-line outcomes.

The engines (analytics, search, frontline) never import this package; it sits beside
the CLI at the top and reaches them only through their public interfaces and the
services ``bootstrap`` builds.
"""
