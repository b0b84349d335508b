"""Redis layout of the staff side: accounts, staff sessions, shifts, hand-offs and aggregate statistics."""
