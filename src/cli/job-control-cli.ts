/** Shared parts of the `stasis job <verb> JOB_ID` commands: flags, opening the client, timeouts. */
import { GLOBAL_SPECS, resolveGlobals, usageError } from './args.js';
import type { CliIO } from './command.js';
import { millisFlag } from './durations.js';
import { QUEUE_OPTIONS, withJobClient } from './job-client.js';
import type { OptionSpecs } from './options.js';
import type { JobControl } from '../queue/job-control.js';
import type { ControlTimeouts } from '../queue/control-client.js';

/** The longest `--ack-timeout`: one hour. */
const MAX_ACK_TIMEOUT_MS = 3_600_000;

/** Flags every job control command takes (listed after the command's own). */
export const CONTROL_OPTIONS = {
  'ack-timeout': {
    type: 'string',
    value: 'DURATION',
    group: 'Control',
    help: "how long the job's node has to answer before ERR_UNAVAILABLE, e.g. 10s (a plain number is milliseconds)",
    default: '5s',
  },
  json: { ...GLOBAL_SPECS.json, group: 'Control' },
  ...QUEUE_OPTIONS,
} as const satisfies OptionSpecs;

/** The parsed values of CONTROL_OPTIONS. */
export interface ControlFlagValues {
  redis?: string | undefined;
  queue?: string | undefined;
  'state-dir'?: string | undefined;
  namespace?: string | undefined;
  json?: boolean | undefined;
  'ack-timeout'?: string | undefined;
}

/** `--ack-timeout` in milliseconds: a duration (`10s`) or a plain number of milliseconds, at most 1h. */
export function ackTimeoutFrom(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = millisFlag(v, '--ack-timeout');
  if (ms > MAX_ACK_TIMEOUT_MS) throw usageError(`Expected \`--ack-timeout\` to be at most 1h, got \`${v}\``);
  return ms;
}

/** Opens a client from the flags, runs `fn` with its JobControl, closes it. */
export async function withJobControl<T>(
  values: ControlFlagValues,
  io: CliIO,
  fn: (control: JobControl, t: ControlTimeouts, json: boolean) => Promise<T>,
): Promise<T> {
  const g = resolveGlobals(values, io.env);
  const ackTimeoutMs = ackTimeoutFrom(values['ack-timeout']);
  const t: ControlTimeouts = ackTimeoutMs !== undefined ? { ackTimeoutMs } : {};
  return withJobClient({ redis: values.redis, queue: values.queue, stateDir: g.stateDir, env: io.env }, ({ client }) => fn(client.control, t, g.json));
}
