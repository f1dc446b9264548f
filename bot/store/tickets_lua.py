"""The Lua scripts of the Redis ticket store (tickets_redis.py), one atomic step each.

Keys are passed in KEYS where the caller knows them; ticket keys are built from ids inside
the scripts, which is fine on one Redis (not on a cluster).
"""

# KEYS: active, seq, rev, user set, s:open. ARGV: prefix, channel, user, reason, now, transcript,
# slots, assessment. Returns the id of the new ticket, or of the user's active one.
CREATE = """
local active = redis.call('GET', KEYS[1])
if active then return active end
local id = tostring(redis.call('INCR', KEYS[2]))
redis.call('HSET', ARGV[1] .. 't:' .. id, 'channel', ARGV[2], 'user', ARGV[3], 'reason', ARGV[4],
  'status', 'open', 'opened_at', ARGV[5], 'updated_at', ARGV[5], 'transcript', ARGV[6],
  'slots', ARGV[7], 'assessment', ARGV[8])
redis.call('SET', KEYS[1], id)
redis.call('SADD', KEYS[4], id)
redis.call('ZADD', KEYS[5], id, id)
redis.call('INCR', KEYS[3])
return id
"""

# KEYS: ticket, rev, s:open, s:claimed, messages. ARGV: id, agent, now, message JSON or ''.
TAKE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'closed' then return {'closed'} end
if status == 'claimed' then
  local who = redis.call('HGET', KEYS[1], 'claimed_by')
  if who ~= ARGV[2] then return {'conflict', who} end
else
  redis.call('HSET', KEYS[1], 'status', 'claimed', 'claimed_by', ARGV[2], 'updated_at', ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZADD', KEYS[4], ARGV[1], ARGV[1])
  redis.call('INCR', KEYS[2])
end
if ARGV[4] ~= '' then
  redis.call('RPUSH', KEYS[5], ARGV[4])
  redis.call('HSET', KEYS[1], 'updated_at', ARGV[3])
  redis.call('INCR', KEYS[2])
end
return {'ok'}
"""

# KEYS: ticket, rev, s:open, s:claimed, s:closed, active. ARGV: id, agent, now, force (0/1).
CLOSE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'closed' then return {'closed'} end
local who = redis.call('HGET', KEYS[1], 'claimed_by')
if status == 'claimed' and who ~= ARGV[2] and ARGV[4] ~= '1' then return {'conflict', who} end
redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at', ARGV[3], 'closed_by', ARGV[2],
  'updated_at', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[1], ARGV[1])
if redis.call('GET', KEYS[6]) == ARGV[1] then redis.call('DEL', KEYS[6]) end
redis.call('INCR', KEYS[2])
return {'ok'}
"""

# KEYS: active, rev. ARGV: prefix, message JSON, now. Returns the ticket id or false.
ADD_USER = """
local id = redis.call('GET', KEYS[1])
if not id then return false end
redis.call('RPUSH', ARGV[1] .. 't:' .. id .. ':m', ARGV[2])
redis.call('HSET', ARGV[1] .. 't:' .. id, 'updated_at', ARGV[3])
redis.call('INCR', KEYS[2])
return id
"""

# KEYS: user set, active, window, rev. ARGV: prefix, s:open, s:claimed, s:closed.
FORGET = """
local ids = redis.call('SMEMBERS', KEYS[1])
for _, id in ipairs(ids) do
  local t = ARGV[1] .. 't:' .. id
  redis.call('DEL', t, t .. ':m', t .. ':f')
  for i = 2, 4 do redis.call('ZREM', ARGV[i], id) end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('INCR', KEYS[4])
return #ids
"""

# KEYS: ticket, rev, s:open, s:claimed, s:closed, active, user set. ARGV: id, updated_at as
# read before: the ticket goes only if nothing changed it since. Returns 1 when it went.
PURGE = """
if redis.call('HGET', KEYS[1], 'updated_at') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[1] .. ':m', KEYS[1] .. ':f')
for i = 3, 5 do redis.call('ZREM', KEYS[i], ARGV[1]) end
if redis.call('GET', KEYS[6]) == ARGV[1] then redis.call('DEL', KEYS[6]) end
redis.call('SREM', KEYS[7], ARGV[1])
redis.call('INCR', KEYS[2])
return 1
"""

# KEYS: window. ARGV: when (µs), ttl (ms). A late-arriving older message does not reopen.
NOTE = """
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
if tonumber(ARGV[1]) >= last then
  redis.call('HSET', KEYS[1], 'last', ARGV[1], 'sent', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""

# KEYS: window. ARGV: now (µs), window (µs), quota. Returns {verdict, last, sent}.
RESERVE = """
local last = redis.call('HGET', KEYS[1], 'last')
if not last then return {'closed', '0', '0'} end
local sent = tonumber(redis.call('HGET', KEYS[1], 'sent') or '0')
if tonumber(ARGV[1]) >= tonumber(last) + tonumber(ARGV[2]) then
  return {'closed', last, tostring(sent)}
end
if sent >= tonumber(ARGV[3]) then return {'quota', last, tostring(sent)} end
redis.call('HINCRBY', KEYS[1], 'sent', 1)
return {'ok', last, tostring(sent + 1)}
"""

RELEASE = """
if tonumber(redis.call('HGET', KEYS[1], 'sent') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'sent', -1)
end
return 1
"""


__all__ = [
    "ADD_USER",
    "CLOSE",
    "CREATE",
    "FORGET",
    "NOTE",
    "PURGE",
    "RELEASE",
    "RESERVE",
    "TAKE",
]
