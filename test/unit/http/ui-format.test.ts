import { describe, expect, it } from 'vitest';
import { clip, displayData, displayResult } from '../../../src/http/ui-format.js';
import { formatListenAddress, parseListenAddress } from '../../../src/http/address.js';

describe('what the dashboard shows of a job', () => {
  it('a short output is shown as it is, and the same object comes back', () => {
    const env = { jobId: '1', stdout: 'hi\n', stderr: '' };
    expect(displayResult(env)).toBe(env);
  });

  it('a long stdout or stderr is cut to the limit with a note of how much was left out', () => {
    const env = { jobId: '1', stdout: 'x'.repeat(100), stderr: 'y'.repeat(10) };
    const shown = displayResult(env, 40) as typeof env;
    expect(shown.stdout.startsWith('x'.repeat(40))).toBe(true);
    expect(shown.stdout).toContain('[60 more characters not shown here');
    expect(shown.stderr).toBe(env.stderr);
    expect(env.stdout).toHaveLength(100); // the job itself is untouched
  });

  it("a failed job's envelope in its data and a long stdin are cut too; other values pass", () => {
    const data = { command: ['cat'], stdin: 's'.repeat(50), stasisResult: { stdout: 'o'.repeat(50) } };
    const shown = displayData(data, 10) as typeof data;
    expect(shown.stdin).toContain('[40 more characters');
    expect(shown.stasisResult.stdout).toContain('[40 more characters');
    expect(shown.command).toEqual(['cat']);
    for (const v of [null, 'text', 3, [1, 2]]) expect(displayData(v)).toBe(v);
  });

  it('clip leaves a string at the limit alone', () => {
    expect(clip('abc', 3, 'x')).toBe('abc');
  });
});

describe('listen addresses', () => {
  it('print back the way they are written', () => {
    expect(formatListenAddress(parseListenAddress('127.0.0.1:9464')!)).toBe('127.0.0.1:9464');
    expect(formatListenAddress(parseListenAddress('[::1]:80')!)).toBe('[::1]:80');
  });
  it('refuse ports out of range and words', () => {
    for (const bad of ['65536', 'host:port', '[::1]', '', 'a b:1']) expect(parseListenAddress(bad), bad).toBeNull();
  });
});
