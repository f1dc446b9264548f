"""Staff handoff: accounts, the console at /staff and its JSON API, relaying staff replies to
the user's channel, the optional Telegram staff group, and the conversation's handoff desk.

Modules: config (environment), texts (dialogs/staff.yaml), accounts (scrypt), auth (signed
session cookie, CSRF, sign-in rate limits), desk (tickets from the conversation), relay
(replies out to WeChat and Telegram), watch (announcing and unclaimed timeouts), group
(Telegram staff group), api and console (HTTP), mount (`jifen-bot serve`).
"""
