"""Evaluation building blocks: retrieval metrics and the public data sets they run on."""
