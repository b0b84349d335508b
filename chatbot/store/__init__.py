"""Redis persistence: the live truth that both processes share."""
