"""Encrypted upload: the SCUP format, one-time grants, resumable ciphertext storage, cases and their audit."""
