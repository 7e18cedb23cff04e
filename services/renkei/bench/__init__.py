"""``renkei bench``: throughput and latency figures on the local stack, with baselines."""
