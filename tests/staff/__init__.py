"""Staff handoff: tickets, accounts, the console's API and the console in a real browser."""
