/** What `run` and `submit` share before they differ: the job request from their flags and stdin, and a client on its queue. */
import type { CliIO } from './command.js';
import { withJobClient, type OpenClient } from './job-client.js';
import { parseJobRequest, type JobRequest } from './job-flags.js';
import { readCommandStdin } from './stdin.js';

/** Parses `args` into a job request (with -i, stdin read to its end becomes the job's), then runs `fn` on a client of its queue. */
export async function withJobRequest<T>(
  args: string[],
  io: CliIO,
  command: 'run' | 'submit',
  fn: (req: JobRequest, open: OpenClient) => Promise<T>,
): Promise<T> {
  const req = parseJobRequest(args, io.env, command);
  if (req.interactive) req.payload.stdin = await readCommandStdin(io);
  return withJobClient({ redis: req.redis, queue: req.queue, stateDir: req.stateDir, env: io.env }, (open) => fn(req, open));
}
