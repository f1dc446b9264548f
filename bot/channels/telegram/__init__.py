"""The Telegram channel: a webhook in our own server (or long polling for development),
inline-keyboard buttons, and sends that respect the Bot API's limits.

Modules: settings (environment), mount (Application and the server mount), routes (POST
/telegram), handlers (updates to the conversation), keyboard (buttons), sender (splitting,
429 and retries), ordering (one chat at a time, chats in parallel), texts (dialogs/telegram.yaml).
"""

import os

# Opt in now to PTB 23's behaviour: time periods (RetryAfter.retry_after, durations) as
# datetime.timedelta. Without it PTB 22 warns on every 429, even inside its own RetryAfter
# constructor; our code reads both shapes, so the upgrade to 23 will change nothing.
os.environ.setdefault("PTB_TIMEDELTA", "true")
