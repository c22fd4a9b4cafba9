import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readCommandStdin } from '../../../src/cli/stdin.js';

function sink() {
  const s = new PassThrough();
  let text = '';
  s.on('data', (b: Buffer) => (text += b.toString()));
  return { s, text: () => text };
}

describe('reading the command stdin for -i', () => {
  it('reads a pipe to its end, as UTF-8, without a word on stderr', async () => {
    const input = new PassThrough();
    const err = sink();
    const read = readCommandStdin({ stdin: input, stderr: err.s });
    input.write('data\n');
    input.end('héllo');
    expect(await read).toBe('data\nhéllo');
    expect(err.text()).toBe('');
  });

  it('says how to end the input when stdin is a terminal', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const err = sink();
    const read = readCommandStdin({ stdin: input, stderr: err.s });
    input.end('typed\n');
    expect(await read).toBe('typed\n');
    expect(err.text()).toContain('Ctrl-D');
  });
});
