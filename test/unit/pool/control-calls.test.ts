import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlCalls } from '../../../src/pool/control-calls.js';
import type { TaskControl } from '../../../src/pool/protocol.js';

describe('ControlCalls (main-thread side of control calls)', () => {
  const channels: MessageChannel[] = [];
  const open = () => {
    const ch = new MessageChannel();
    channels.push(ch);
    return ch;
  };
  afterEach(() => {
    for (const c of channels.splice(0)) {
      c.port1.close();
      c.port2.close();
    }
  });

  it('refuses a call before the task started, with ERR_FAILED_PRECONDITION', async () => {
    const { port1 } = open();
    const calls = new ControlCalls(port1, 't1');
    await expect(calls.call({ verb: 'pause', args: {} }, 1000)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
  });

  it('posts the call with a request id and resolves with the answer carrying that id', async () => {
    const { port1, port2 } = open();
    const calls = new ControlCalls(port1, 't1');
    calls.started();
    port2.on('message', (m: TaskControl) => {
      if (m.type === 'control') calls.answer(m.requestId, { ok: true, value: { status: 'paused', verb: m.call.verb } });
    });
    await expect(calls.call({ verb: 'pause', args: {} }, 1000)).resolves.toEqual({ status: 'paused', verb: 'pause' });
  });

  it('rejects with the thread error as a StasisError with its code', async () => {
    const { port1, port2 } = open();
    const calls = new ControlCalls(port1, 't1');
    calls.started();
    port2.on('message', (m: TaskControl) => {
      if (m.type === 'control') {
        calls.answer(m.requestId, { ok: false, error: { name: 'StasisError', code: 'ERR_FAILED_PRECONDITION', message: 'cannot pause a paused task' } });
      }
    });
    await expect(calls.call({ verb: 'pause', args: {} }, 1000)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: 'cannot pause a paused task' });
  });

  it('gives ERR_UNAVAILABLE when the thread does not answer in time', async () => {
    const { port1 } = open();
    const calls = new ControlCalls(port1, 't1');
    calls.started();
    await expect(calls.call({ verb: 'ps', args: {} }, 50)).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
  });

  it('fails calls still pending when the task ends, and refuses new ones', async () => {
    const { port1 } = open();
    const calls = new ControlCalls(port1, 't1');
    calls.started();
    const pending = calls.call({ verb: 'ps', args: {} }, 10_000);
    let closed = false;
    calls.end(() => (closed = true));
    await expect(pending).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    expect(closed).toBe(true);
    await expect(calls.call({ verb: 'ps', args: {} }, 1000)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: 'task t1 has ended' });
  });
});
