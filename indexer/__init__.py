"""The batch indexer: transcripts -> timed segments -> vectors -> Qdrant; resumable."""
