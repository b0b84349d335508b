"""Staff side of the support chat: counsellors, supervisors, editors, translators, analysts."""
