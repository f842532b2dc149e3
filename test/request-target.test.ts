import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseTarget } from '../src/http/request-target.js'

const pathOf = (target: string): string => parseTarget(target).path

test('the path is normalised once for every check: empty and dot segments go, .. removes the one before', () => {
  const cases: [string, string][] = [
    ['/health', '/health'],
    ['/health/', '/health'],
    ['//health', '/health'],
    ['/./ws', '/ws'],
    ['/x/../ws', '/ws'],
    ['/health/../topics', '/topics'],
    ['/../../ws', '/ws'],
    ['', '/'],
    ['*', '/*'],
    // Encoded dots are data, not dot segments: the router decodes them into a name the name check refuses.
    ['/topics/%2e%2e', '/topics/%2e%2e'],
  ]
  for (const [target, path] of cases) assert.equal(pathOf(target), path, target)
})

test('the absolute form is accepted and its authority ignored', () => {
  assert.equal(pathOf('http://127.0.0.1:8000/ws'), '/ws')
  assert.equal(pathOf('HTTP://h'), '/')
  assert.equal(pathOf('ws://h:1/ws/?api_key=k'), '/ws')
})

test('targets that make new URL throw are parsed, not thrown on', () => {
  assert.equal(pathOf('//['), '/[')
  assert.equal(pathOf('//x:99999/ws'), '/x:99999/ws')
  assert.equal(pathOf('http://[/ws'), '/ws')
})

test('the query is read up to a fragment, which is dropped', () => {
  assert.equal(parseTarget('/ws?api_key=K#f').query.get('api_key'), 'K')
  assert.equal(parseTarget('/topics/a/messages?last_n=3&x').query.get('last_n'), '3')
  assert.equal(parseTarget('/ws#?api_key=K').query.get('api_key'), null)
  assert.equal(parseTarget('/ws?%zz=1').query.get('%zz'), '1')
})
