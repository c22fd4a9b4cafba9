/** Signals by name and number, as the kernel numbers them on this host (os.constants.signals). */
import os from 'node:os';

const BY_NAME = os.constants.signals as Readonly<Record<string, number>>;
const BY_NUMBER = new Map<number, string>(Object.entries(BY_NAME).map(([name, n]) => [n, name] as [number, string]));

/** The highest signal number (real-time signals included). */
export const MAX_SIGNAL = 64;

/** The name of a signal number (`SIGTERM`), or null for an unknown one. */
export function signalName(n: number): string | null {
  return BY_NUMBER.get(n) ?? null;
}

/** Signal name of a shell-style exit status (128 + n), or null. */
export function signalOfStatus(status: number): string | null {
  return status > 128 ? signalName(status - 128) : null;
}

/**
 * The number of a signal given as a number, a decimal string, or a name with or without `SIG`
 * (`TERM`, `sigkill`); undefined when it is none of those.
 */
export function signalNumber(signal: number | string): number | undefined {
  if (typeof signal === 'number') return Number.isInteger(signal) && signal > 0 && signal <= MAX_SIGNAL ? signal : undefined;
  const s = signal.trim().toUpperCase();
  if (/^\d+$/.test(s)) return signalNumber(Number(s));
  return BY_NAME[s.startsWith('SIG') ? s : `SIG${s}`];
}
