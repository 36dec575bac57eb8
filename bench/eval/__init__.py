"""Retrieval quality: golden questions with judged moments, run through `SearchService`.

`python -m bench.eval` (`make eval`) prints MRR@10, Recall@10 and nDCG@10 per search mode;
`python -m bench.eval.sweep` compares chunker and fusion settings on the same questions.
"""
