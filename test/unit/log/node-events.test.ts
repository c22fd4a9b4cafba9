import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/pino.js';
import { eventLevel, eventMessage, logError, logNodeEvent } from '../../../src/log/node-events.js';
import { logFormatOf, logLevelOf } from '../../../src/log/format.js';
import type { NodeEvent } from '../../../src/events/node-events.js';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

const ref = { jobId: '7', taskId: '7-0', namespace: 'default' };

describe('structured log lines', () => {
  it('a lifecycle event is one JSON line with its name, fields, level word, ISO time and the bound node id', () => {
    const s = sink();
    const log = createLogger({ format: 'json', level: 'info', stream: s.stream }).child({ nodeId: 'n1' });
    logNodeEvent(log, { event: 'exited', ...ref, reason: 'oom', exitStatus: 137, signal: 'SIGKILL', runMs: 12, cpuMs: 3, peakMemoryBytes: 9 });
    expect(s.lines).toHaveLength(1);
    const l = JSON.parse(s.lines[0]!);
    expect(l).toMatchObject({ level: 'info', nodeId: 'n1', event: 'exited', jobId: '7', taskId: '7-0', namespace: 'default', reason: 'oom', runMs: 12, msg: 'job 7 oom with status 137' });
    expect(new Date(l.time).toISOString()).toBe(l.time);
  });

  it('errors carry the error and its code; warnings are `warning` lines', () => {
    const s = sink();
    const log = createLogger({ format: 'json', level: 'info', stream: s.stream });
    logError(log, Object.assign(new Error('boom'), { code: 'ERR_RUNTIME' }), { jobId: '1' });
    logError(log, new Error('meh'), {}, 'warn');
    const [e, w] = s.lines.map((x) => JSON.parse(x));
    expect(e).toMatchObject({ level: 'error', event: 'error', jobId: '1', msg: 'boom', err: { message: 'boom', code: 'ERR_RUNTIME' } });
    expect(w).toMatchObject({ level: 'warn', event: 'warning', msg: 'meh' });
  });

  it('lines under the level are not written', () => {
    const s = sink();
    const log = createLogger({ format: 'json', level: 'warn', stream: s.stream });
    logNodeEvent(log, { event: 'taken', ...ref, attempt: 0, adopted: false });
    expect(s.lines).toEqual([]);
  });

  it('pretty lines are not JSON and still say the message', () => {
    const s = sink();
    const log = createLogger({ format: 'pretty', level: 'info', stream: s.stream, colorize: false });
    logNodeEvent(log, { event: 'taken', ...ref, attempt: 0, adopted: false });
    expect(s.lines.join('\n')).toContain('job 7 taken');
    expect(() => JSON.parse(s.lines[0]!)).toThrow();
  });

  it('failed posts and drains that killed jobs are warnings', () => {
    const failed: NodeEvent = { event: 'posted', ...ref, state: 'failed', reason: 'error' };
    expect(eventLevel(failed)).toBe('warn');
    expect(eventLevel({ event: 'drained', checkpointed: [], requeued: [], waited: [], failed: [], killed: ['3'], durationMs: 1 })).toBe('warn');
    expect(eventMessage({ event: 'migrated', ...ref, reason: 'migrate', seq: 1, to: 'B' })).toBe('job 7 checkpointed for migrate and handed to node B');
  });
});

describe('log flags', () => {
  it('format: given, else pretty on a terminal and JSON otherwise; unknown is null', () => {
    expect(logFormatOf(undefined, true)).toBe('pretty');
    expect(logFormatOf('', false)).toBe('json');
    expect(logFormatOf('Json', true)).toBe('json');
    expect(logFormatOf('yaml', true)).toBeNull();
  });
  it('level: info by default; unknown is null', () => {
    expect(logLevelOf(undefined)).toBe('info');
    expect(logLevelOf('SILENT')).toBe('silent');
    expect(logLevelOf('trace')).toBeNull();
  });
});
