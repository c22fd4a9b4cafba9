/**
 * The `stasis job <verb> [options] JOB_ID` commands that control a running job on its node: each
 * declares its flags, an optional check of them and what it asks the node; taking the id, checking
 * the flags before connecting, resolving --ack-timeout, connecting and closing happen here.
 */
import type { CliIO, Command } from './command.js';
import { CONTROL_OPTIONS, withJobControl, type ControlFlagValues } from './job-control-cli.js';
import type { OptionSpecs } from './options.js';
import { idCommand, type FlagValues, type IdCommandRow } from './table-command.js';
import type { JobControl } from '../queue/job-control.js';
import type { ControlTimeouts } from '../queue/control-client.js';

/** A control verb's own flags plus the control and queue ones, listed last. */
export type ControlVerbFlags<T extends OptionSpecs> = T & typeof CONTROL_OPTIONS;

/** What a control verb's act() is given. */
export interface ControlVerbCall<V, A> {
  /** The job id from the command line. */
  jobId: string;
  /** The job control of a client on the flags' queue, closed once act() is done. */
  control: JobControl;
  /** --ack-timeout, to pass on with the request. */
  t: ControlTimeouts;
  /** Whether --json was given. */
  json: boolean;
  /** The parsed flags. */
  values: V;
  /** What check() made of the flags (undefined without a check()). */
  input: A;
  io: CliIO;
}

/** One `job <verb>` command, as a row: its texts, its flags, its checks and its request. */
export interface ControlVerbSpec<T extends OptionSpecs, A> extends IdCommandRow<T> {
  /** The word after `job` ('pause'). */
  verb: string;
  /** Reads and checks the flags, the words after `--` and stdin before connecting, so usage errors come first. */
  check?(values: FlagValues<ControlVerbFlags<T>>, rest: string[], io: CliIO): Promise<A> | A;
  /** Sends the request and prints the answer; resolves to the exit code (nothing means 0). */
  act(call: ControlVerbCall<FlagValues<ControlVerbFlags<T>>, A>): Promise<number | void>;
}

/** The `job` family: the id is a job's, and every verb takes the control and queue flags. */
const CONTROL_FAMILY = { id: 'JOB_ID', idName: 'JOB_ID', shared: CONTROL_OPTIONS };

/** Builds the Command of a `job <verb> [options] JOB_ID` row. */
export function jobControlCommand<const T extends OptionSpecs, A = undefined>(spec: ControlVerbSpec<T, A>): Command {
  return idCommand(`job ${spec.verb}`, spec, CONTROL_FAMILY, async (jobId, { values, rest }, io) => {
    const input = spec.check ? await spec.check(values, rest, io) : (undefined as A);
    // The table ends with CONTROL_OPTIONS, so its values hold the control flags.
    return withJobControl(values as ControlFlagValues, io, async (control, t, json) => {
      return (await spec.act({ jobId, control, t, json, values, input, io })) ?? 0;
    });
  });
}
