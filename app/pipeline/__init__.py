"""The pipeline's plumbing: Redis pub/sub and stage status, freshness, deadlines."""
