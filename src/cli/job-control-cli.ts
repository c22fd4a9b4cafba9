/** Shared parts of the `stasis job <verb> JOB_ID` commands: flags, opening the client, timeouts. */
import { parseIntFlag } from './args.js';
import type { CliIO } from './command.js';
import { QUEUE_FLAGS_USAGE, QUEUE_OPTIONS, openJobClient } from './job-client.js';
import { resolveGlobals } from './args.js';
import type { JobControl } from '../queue/job-control.js';
import type { ControlTimeouts } from '../queue/control-client.js';

/** Flags every job control command takes. */
export const CONTROL_OPTIONS = {
  ...QUEUE_OPTIONS,
  'ack-timeout': { type: 'string' },
} as const;

/** Usage lines of CONTROL_OPTIONS. */
export const CONTROL_FLAGS_USAGE = `${QUEUE_FLAGS_USAGE}
      --ack-timeout MS how long the job's node has to answer before ERR_UNAVAILABLE (default 5000)
      --json           print JSON`;

/** The parsed values of CONTROL_OPTIONS. */
export interface ControlFlagValues {
  redis?: string | undefined;
  queue?: string | undefined;
  'state-dir'?: string | undefined;
  namespace?: string | undefined;
  json?: boolean | undefined;
  'ack-timeout'?: string | undefined;
}

/** Opens a client from the flags, runs `fn` with its JobControl, closes it. */
export async function withJobControl<T>(
  values: ControlFlagValues,
  io: CliIO,
  fn: (control: JobControl, t: ControlTimeouts, json: boolean) => Promise<T>,
): Promise<T> {
  const g = resolveGlobals(values, io.env);
  const ackTimeoutMs = parseIntFlag(values['ack-timeout'], 'ack-timeout', 1, 3_600_000);
  const open = await openJobClient({ redis: values.redis, queue: values.queue, stateDir: g.stateDir, env: io.env });
  try {
    return await fn(open.client.control, ackTimeoutMs !== undefined ? { ackTimeoutMs } : {}, g.json);
  } finally {
    await open.close();
  }
}
