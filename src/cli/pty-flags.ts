/** The terminal-size flags of `task resize` and `job resize`. */
import { parseIntFlag, usageError } from './args.js';
import type { OptionSpecs } from './options.js';
import type { ConsoleSize } from '../runtime/task.js';

/** --width and --height, both required. */
export const PTY_SIZE_OPTIONS = {
  width: { type: 'string', value: 'COLUMNS', help: 'terminal width (required)' },
  height: { type: 'string', value: 'ROWS', help: 'terminal height (required)' },
} as const satisfies OptionSpecs;

/** The size the flags ask for (each 1 to 65535); a usage error when either is missing. */
export function ptySizeFromFlags(v: { width?: string | undefined; height?: string | undefined }): ConsoleSize {
  const width = parseIntFlag(v.width, 'width', 1, 65535);
  const height = parseIntFlag(v.height, 'height', 1, 65535);
  if (width === undefined || height === undefined) throw usageError('missing --width or --height');
  return { width, height };
}
