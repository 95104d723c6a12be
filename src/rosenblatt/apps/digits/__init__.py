"""The ZIP-code reader: pre-processing, classification, calibrated acceptance, review."""
