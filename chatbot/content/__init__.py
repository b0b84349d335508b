"""What editors and translators work on: the answers, their translations, and the checks of the guidelines."""
