import { describe, expect, it } from 'vitest';
import {
  CONTROL_PROTOCOL_VERSION,
  CheckpointRequestArgsSchema,
  controlChannel,
  controlReplyKey,
  formatArgIssues,
  parseControlReply,
  parseControlRequest,
} from '../../../src/queue/control.js';

const request = {
  v: CONTROL_PROTOCOL_VERSION,
  requestId: 'r1',
  jobId: '17',
  verb: 'pause',
  args: {},
  replyTo: 'bull:q:stasis:control-reply:r1',
  sentAt: '2026-11-28T10:00:00.000Z',
  deadline: 1_800_000_000_000,
};

describe('the control wire protocol (control.ts)', () => {
  it('names one channel per node and one reply list per request under the queue prefix', () => {
    expect(controlChannel({ queue: 'q' }, 'node-a')).toBe('bull:q:stasis:control:node-a');
    expect(controlChannel({ queue: 'q', prefix: 'p' }, 'node-a')).toBe('p:q:stasis:control:node-a');
    expect(controlReplyKey({ queue: 'q' }, 'r1')).toBe('bull:q:stasis:control-reply:r1');
  });

  it('parses a request and defaults its args', () => {
    expect(parseControlRequest(JSON.stringify(request))).toEqual(request);
    const { args: _a, ...noArgs } = request;
    expect(parseControlRequest(JSON.stringify(noArgs))?.args).toEqual({});
  });

  it('ignores what is not a request: bad JSON, another version, a bad verb, extra fields', () => {
    expect(parseControlRequest('{not json')).toBeNull();
    expect(parseControlRequest(JSON.stringify({ ...request, v: 2 }))).toBeNull();
    expect(parseControlRequest(JSON.stringify({ ...request, verb: 'Pause!' }))).toBeNull();
    expect(parseControlRequest(JSON.stringify({ ...request, extra: 1 }))).toBeNull();
    expect(parseControlRequest(JSON.stringify({ ...request, args: ['x'] }))).toBeNull();
  });

  it('parses acks, results and errors as replies', () => {
    expect(parseControlReply(JSON.stringify({ kind: 'ack', requestId: 'r1', nodeId: 'n' }))).toEqual({ kind: 'ack', requestId: 'r1', nodeId: 'n' });
    expect(parseControlReply(JSON.stringify({ kind: 'result', requestId: 'r1', nodeId: 'n', ok: true, value: { status: 'paused' } }))).toMatchObject({
      ok: true,
      value: { status: 'paused' },
    });
    const err = { kind: 'result', requestId: 'r1', nodeId: 'n', ok: false, error: { name: 'StasisError', code: 'ERR_FAILED_PRECONDITION', message: 'cannot pause a stopped task' } };
    expect(parseControlReply(JSON.stringify(err))).toEqual(err);
    expect(parseControlReply(JSON.stringify({ ...err, error: { ...err.error, code: 'ERR_MADE_UP' } }))).toBeNull();
    expect(parseControlReply('nope')).toBeNull();
  });

  it('checkpoint arguments: leave-running defaults to false; the image must be an absolute path', () => {
    expect(CheckpointRequestArgsSchema.parse({})).toEqual({ leaveRunning: false });
    const bad = CheckpointRequestArgsSchema.safeParse({ image: 'rel' });
    expect(bad.success).toBe(false);
    if (!bad.success) expect(formatArgIssues(bad.error)).toBe('`args.image`: Expected `image` to be an absolute path');
  });
});
