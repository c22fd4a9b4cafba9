import { describe, expect, it } from 'vitest';
import { parseLogLine } from '../../../src/monitor/log.js';

describe('parseLogLine', () => {
  it('parses a full stdout line', () => {
    expect(parseLogLine('2026-11-28T09:27:24.883104300+00:00 stdout F out 0')).toEqual({
      time: '2026-11-28T09:27:24.883104300+00:00', stream: 'stdout', partial: false, data: 'out 0',
    });
  });

  it('parses stderr and keeps inner spaces', () => {
    expect(parseLogLine('2026-11-28T09:27:24.883160614+00:00 stderr F  two  spaces ')?.data).toBe(' two  spaces ');
  });

  it('marks P lines as partial and keeps escape sequences', () => {
    expect(parseLogLine('2026-11-28T09:45:40.292066289+00:00 stdout P / # \u001b[6n')).toEqual({
      time: '2026-11-28T09:45:40.292066289+00:00', stream: 'stdout', partial: true, data: '/ # \u001b[6n',
    });
  });

  it('accepts an empty line and a trailing newline', () => {
    expect(parseLogLine('2026-11-28T09:47:47.968341455+00:00 stdout F \n')?.data).toBe('');
    expect(parseLogLine('2026-11-28T09:47:47.968341455+00:00 stdout F')?.data).toBe('');
  });

  it.each([[''], ['garbage'], ['2026-11-28T09:27:24Z stdin F x'], ['2026-11-28T09:27:24Z stdout X x']])('rejects %j', (line) => {
    expect(parseLogLine(line)).toBeNull();
  });
});
