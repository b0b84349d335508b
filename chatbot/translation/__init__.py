"""The translators' workspace, domain side: units, checks, glossary, memory, review, .po exchange (no I/O but files)."""
