"""Prices: the tick, storing it, candles, history ranges, partitions."""
