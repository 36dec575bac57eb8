"""podsearch core: the models, contracts and adapters shared by the three deployables.

Imports no torch, FastAPI or Modal: the search API must stay serverless-sized.
"""

__version__ = "0.1.0"
