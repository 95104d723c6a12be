"""HTTP service for the ZIP reader (FastAPI, imported lazily)."""
