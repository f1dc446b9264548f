"""Lease claims on dedupe keys, for the Redis store: a message another worker can take over.

A plain claim (`claim_once`, value "?") holds a message for its whole ttl: when the worker
answering it dies, every retry finds it claimed and unanswered until the key expires, and the
answer is lost. A lease claim records its holder and until when it holds:

    ?<token> <expiry ms>    claimed; the holder renews the expiry while it works
    =<answer>               answered (written by `set_result` or `settle_lease`)

A retry that finds the lease run out (the holder stopped renewing) takes the claim over with
its own token. The holder's answer is written only while its token still holds the claim, so
exactly one of the two delivers. Redis TIME is the one clock of all workers.
"""

from __future__ import annotations

from typing import Any

# KEYS: dedupe key. ARGV: token, lease ms, ttl ms. 1 when `token` holds the claim afterwards.
CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 1) ~= '?' then return 0 end
  local sep = string.find(v, ' ', 2, true)
  if not sep then return 0 end
  if string.sub(v, 2, sep - 1) ~= ARGV[1] and tonumber(string.sub(v, sep + 1)) > now then
    return 0
  end
end
redis.call('SET', KEYS[1], '?' .. ARGV[1] .. ' ' .. (now + tonumber(ARGV[2])), 'PX', ARGV[3])
return 1
"""

# KEYS: dedupe key. ARGV: token, lease ms. 1 when the lease was extended; 0 when the token no
# longer holds the claim (taken over, answered, expired).
RENEW = """
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 1) ~= '?' then return 0 end
local sep = string.find(v, ' ', 2, true)
if not sep or string.sub(v, 2, sep - 1) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], '?' .. ARGV[1] .. ' ' .. (now + tonumber(ARGV[2])), 'KEEPTTL')
return 1
"""

# KEYS: dedupe key. ARGV: token, result, ttl ms. 1 when written; 0 when another worker holds
# the claim or has answered. An expired record is written anew: nobody else has the answer.
SETTLE = """
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 1) == '=' then return 0 end
  local sep = string.find(v, ' ', 2, true)
  if sep and string.sub(v, 2, sep - 1) ~= ARGV[1] then return 0 end
end
redis.call('SET', KEYS[1], '=' .. ARGV[2], 'PX', ARGV[3])
return 1
"""


class LeaseScripts:
    """The three scripts registered on one client."""

    def __init__(self, client: Any) -> None:
        self.claim = client.register_script(CLAIM)
        self.renew = client.register_script(RENEW)
        self.settle = client.register_script(SETTLE)


__all__ = ["CLAIM", "RENEW", "SETTLE", "LeaseScripts"]
