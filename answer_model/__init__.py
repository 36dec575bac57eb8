"""The optional answer model: a small open instruct model on vLLM, as a Modal app."""
