"""The inbox of the Redis store (Store.inbox_add / inbox_take / inbox_done): what a channel
acknowledged before processing it, kept until processed so that a dead worker loses nothing.

Per channel, three keys that share the channel as hash tag (one cluster slot, so that one
script can write all three):
  jifen:ib:{<channel>}:due    sorted set: item scored by its lease deadline (µs of Redis TIME)
  jifen:ib:{<channel>}:body   hash: item -> body
  jifen:ib:{<channel>}:takes  hash: item -> times taken (absent until the first take)

Redis TIME is the one clock of all workers, as for lease claims (redis_lease.py): a worker
whose clock is off can neither take items early nor keep them from the others.
"""

from __future__ import annotations

from typing import Any

# Deadlines are passed to redis.call as Lua numbers, never through `..`: Lua formats numbers
# in concatenations with 14 significant digits, too few for µs since the epoch (16), while
# redis.call converts a number argument exactly.

# KEYS: due, body, takes. ARGV: item, body, lease µs. 1 when added, 0 when it was there already
# (nothing changes then: not the body, not the deadline, not the count).
ADD = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
-- The count starts afresh even if a stray one outlived its body (the first take returns 1).
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
-- A channel no longer served leaves its inbox behind: gone a day after its last item came.
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], 86400) end
return 1
"""

# KEYS: due, body, takes. ARGV: lease µs, limit (> 0). Returns {item, body, takes, ...} of the
# items due, oldest deadline first, each leased again: one atomic step, so that two workers
# taking at once never get the same item.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local until_ = now + tonumber(ARGV[1])
local out = {}
for _, item in ipairs(due) do
  local body = redis.call('HGET', KEYS[2], item)
  if body then
    redis.call('ZADD', KEYS[1], until_, item)
    local takes = redis.call('HINCRBY', KEYS[3], item, 1)
    out[#out + 1] = item
    out[#out + 1] = body
    out[#out + 1] = takes
  else
    -- A deadline without a body cannot be processed; drop it rather than return it forever.
    redis.call('ZREM', KEYS[1], item)
    redis.call('HDEL', KEYS[3], item)
  end
end
return out
"""


class InboxScripts:
    """The two scripts registered on one client (`inbox_done` is a plain transaction)."""

    def __init__(self, client: Any) -> None:
        self.add = client.register_script(ADD)
        self.take = client.register_script(TAKE)


__all__ = ["ADD", "TAKE", "InboxScripts"]
