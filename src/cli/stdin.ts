/** Reading the CLI's own stdin to its end (`stasis run -i`, `stasis submit -i`, `stasis job exec -i`). */
import type { CliIO } from './command.js';

/** Reads `s` to its end and decodes it as UTF-8 (a terminal gives what is typed until Ctrl-D). */
export async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** True when `s` is a terminal (then the user types the input). */
export function isTerminal(s: NodeJS.ReadableStream): boolean {
  return (s as { isTTY?: boolean }).isTTY === true;
}

/** `-i`: the command's stdin (io.stdin, else process.stdin) read to its end; on a terminal, says how to end it. */
export async function readCommandStdin(io: Pick<CliIO, 'stdin' | 'stderr'>): Promise<string> {
  const input = io.stdin ?? process.stdin;
  if (isTerminal(input)) io.stderr.write("stasis: reading the job's stdin from the terminal; end it with Ctrl-D\n");
  return readAll(input);
}
