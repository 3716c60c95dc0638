// Protocol versions 1 and 2: which versions and types each side takes, and the version-2 messages' validation.
import t from 'tap';
import { parseAgentMessage, parseHubMessage, PROTOCOL_VERSIONS } from '../../protocol/messages.js';
import { makeAssignment } from '../helpers/assignment.js';
import { helloFor } from '../helpers/ws-client.js';

const status = { experimentId: 'exp-1', revision: 1, state: 'applied', message: null, at: '2026-12-02T10:00:00.000Z' };
const text = (m: object) => JSON.stringify(m);

t.test('versions: 1 and 2 are spoken; a connection takes only its own', async (t) => {
  t.same(PROTOCOL_VERSIONS, [1, 2]);
  t.ok(parseAgentMessage(text(helloFor('a', 'h'))).ok, 'a version-1 hello');
  t.ok(parseAgentMessage(text({ ...helloFor('a', 'h'), v: 2 })).ok, 'a version-2 hello');
  t.match(parseAgentMessage(text({ ...helloFor('a', 'h'), v: 3 })), { ok: false, code: 'unsupportedVersion', reason: /version 3; this side speaks 1 and 2/ });
  t.match(parseAgentMessage(text({ ...helloFor('a', 'h'), v: 2 }), [1]), { ok: false, code: 'unsupportedVersion', reason: /version 2; this side speaks 1$/ }, 'as a version-1 hub answers');
  t.match(parseAgentMessage(text({ ...helloFor('a', 'h'), v: '2' })), { ok: false, code: 'unsupportedVersion', reason: /version "2"/ }, 'a version is a number');
});

t.test('the version-2 types are unknown in a version-1 message', async (t) => {
  t.match(parseAgentMessage(text({ type: 'status', v: 1, status })), { ok: false, code: 'unexpected' });
  t.match(parseHubMessage(text({ type: 'assign', v: 1, assignment: makeAssignment() })), { ok: false, code: 'unexpected' });
  t.match(parseHubMessage(text({ type: 'withdraw', v: 1, experimentId: 'x', reason: 'r' })), { ok: false, code: 'unexpected' });
  t.ok(parseHubMessage(text({ type: 'ack', v: 1, seq: 3 }), [1]).ok, 'an ack at version 1');
});

t.test('version-2 messages, valid and not', async (t) => {
  t.ok(parseAgentMessage(text({ type: 'status', v: 2, status })).ok, 'a status');
  t.ok(parseHubMessage(text({ type: 'assign', v: 2, assignment: makeAssignment() })).ok, 'an assignment');
  t.ok(parseHubMessage(text({ type: 'withdraw', v: 2, experimentId: 'exp-1', reason: 'stopped' })).ok, 'a withdrawal');
  const hello = { ...helloFor('a', 'h'), v: 2, experiments: { accepts: true, reason: null, current: status } };
  const parsed = parseAgentMessage(text(hello));
  t.ok(parsed.ok && parsed.message.type === 'hello' && parsed.message.experiments?.current?.state === 'applied', 'a hello with its experiments part');

  const bad: [string, object, RegExp][] = [
    ['an unknown state', { type: 'status', v: 2, status: { ...status, state: 'exploded' } }, /status\.state/],
    ['a bad experiment id', { type: 'status', v: 2, status: { ...status, experimentId: '../x' } }, /experimentId/],
    ['a message over 2048 characters', { type: 'status', v: 2, status: { ...status, message: 'x'.repeat(2049) } }, /status\.message/],
  ];
  for (const [what, message, reason] of bad) t.match(parseAgentMessage(text(message)), { ok: false, code: 'malformed', reason }, what);

  const assignment = makeAssignment();
  const badAssignments: [string, object, RegExp][] = [
    ['one variant', { ...assignment, variants: [assignment.variants[0]] }, /assignment\.variants/],
    ['a template over 256 KiB', { ...assignment, variants: [assignment.variants[0], { ...assignment.variants[1], template: 'x'.repeat(256 * 1024 + 1) }] }, /256/],
    ['a short sha256', { ...assignment, variants: [assignment.variants[0], { ...assignment.variants[1], sha256: 'abc' }] }, /sha256/],
    ['a collection interval under 1 s', { ...assignment, parameters: { ...assignment.parameters, collectionIntervalMs: 10 } }, /collectionIntervalMs/],
    ['no critical pattern', { ...assignment, critical: { patterns: [] } }, /critical\.patterns/],
    ['an end time that is not a time', { ...assignment, endsAt: 'tomorrow' }, /endsAt/],
  ];
  for (const [what, bad, reason] of badAssignments) {
    t.match(parseHubMessage(text({ type: 'assign', v: 2, assignment: bad })), { ok: false, code: 'malformed', reason }, what);
  }
});
