"""Telling people things: the outbox delivery loop and the scheduler that runs it with the core jobs."""
