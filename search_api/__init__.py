"""The search API: serverless-sized (no model, no torch), answers with ranked moments."""
