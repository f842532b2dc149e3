/**
 * The Lua scripts: each runs atomically in Redis and touches one topic's keys
 * (create and delete also the topic list). Numbers are formatted with %d:
 * Lua's default would write a large seq as 1e+14.
 */

/** The live subscriber count from a counts hash; a node that stopped refreshing its entry drops out. */
const SUBSCRIBERS = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function subscribers(key)
  local now = nowMs()
  local n = 0
  local values = redis.call('HVALS', key)
  for i = 1, #values do
    local count, expires = string.match(values[i], '^(%d+)@(%d+)$')
    if count and tonumber(expires) > now then n = n + tonumber(count) end
  end
  return n
end
`

/**
 * KEYS meta, stream, counts; ARGV history size, channel, '1' to count the
 * subscribers, the number of events, their byte lengths (comma-separated),
 * then their texts after the seq, back to back. Takes the next seqs, stores
 * the events and publishes them in one channel message, or returns nil when
 * the topic does not exist. → {epoch, first seq[, subscribers]}
 *
 * The stream holds each event's text after its seq: the text before it is
 * the same for every event of the topic, and a node puts the three together.
 * The stream is trimmed approximately (whole nodes at a time, far cheaper
 * than exact trimming), once per call: a MAXLEN on each XADD made the
 * script take about a fifth longer per event. READ hides what it holds
 * beyond the history size.
 */
export const PUBLISH = `${SUBSCRIBERS}
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then return false end
local n = tonumber(ARGV[4])
local first = redis.call('HINCRBY', KEYS[1], 's', n) - n + 1
if ARGV[1] ~= '0' then
  local call, format, sub, stream, texts = redis.call, string.format, string.sub, KEYS[2], ARGV[6]
  local seq, at = first, 1
  for length in string.gmatch(ARGV[5], '%d+') do
    local after = at + tonumber(length)
    call('XADD', stream, format('%d', seq) .. '-0', 'd', sub(texts, at, after - 1))
    seq, at = seq + 1, after
  end
  call('XTRIM', stream, 'MAXLEN', '~', ARGV[1])
end
redis.call('PUBLISH', ARGV[2], epoch .. ' ' .. string.format('%d', first) .. ' ' .. ARGV[5] .. ' ' .. ARGV[6])
if ARGV[3] == '1' then return {epoch, first, subscribers(KEYS[3])} end
return {epoch, first}
`

/**
 * KEYS meta, stream, counts; ARGV first seq to read ('' reads none), node
 * id, this node's subscriber count ('' leaves it), its lifetime in ms,
 * history size. → nil when the topic does not exist, else {epoch, head seq,
 * entries, subscribers, events held}. The history is the last (history
 * size) events, whatever more the stream still holds, so the oldest held
 * seq is head - held + 1.
 */
export const READ = `${SUBSCRIBERS}
local meta = redis.call('HMGET', KEYS[1], 'e', 's')
if not meta[1] then return false end
if ARGV[3] == '0' then
  redis.call('HDEL', KEYS[3], ARGV[2])
elseif ARGV[3] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[3] .. '@' .. string.format('%d', nowMs() + tonumber(ARGV[4])))
end
local head = tonumber(meta[2])
local oldest = head - tonumber(ARGV[5]) + 1
local entries = {}
if ARGV[1] ~= '' then
  entries = redis.call('XRANGE', KEYS[2], string.format('%d', math.max(tonumber(ARGV[1]), oldest, 1)) .. '-0', '+')
end
local held = math.min(redis.call('XLEN', KEYS[2]), head - math.max(oldest, 1) + 1)
return {meta[1], meta[2], entries, subscribers(KEYS[3]), held}
`

/**
 * KEYS topic list, its counter, meta, stream, counts; ARGV name, new epoch,
 * most topics. A new incarnation starts with an empty stream, so its ids
 * start again at 1-0. → 'created' | 'exists' | 'full'
 */
export const CREATE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 'exists' end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 'full' end
redis.call('DEL', KEYS[4], KEYS[5])
redis.call('HSET', KEYS[3], 'e', ARGV[2], 's', '0')
redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[2]), ARGV[1])
return 'created'
`

/**
 * KEYS topic list, meta, stream, counts; ARGV name, channel. The deletion is
 * published on the topic's own channel, so every node sees it after the
 * topic's last event. → the deleted epoch, or nil when there was no topic
 */
export const DELETE = `
local epoch = redis.call('HGET', KEYS[2], 'e')
redis.call('ZREM', KEYS[1], ARGV[1])
if not epoch then return false end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[2], epoch .. ' deleted')
return epoch
`
