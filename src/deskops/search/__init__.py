"""Hybrid retrieval (BM25 + dense embeddings + fusion + re-ranking) over articles and conversations."""
