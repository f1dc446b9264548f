"""Persistence: sessions, transcripts, dedupe keys, locks, small expiring values (and tickets)."""
