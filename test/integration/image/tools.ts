/** Image tools for tests: the real skopeo and umoci behind a runner that counts what ran. */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { defaultTools, execaRunner, type ImageTools } from '../../../src/image/tools.js';

/** How many times each image-store operation ran. */
export interface ToolCounts {
  inspect: number;
  copy: number;
  unpack: number;
}

/** Real tools that count skopeo inspect/copy and umoci unpack calls. */
export function countingTools(): { tools: ImageTools; counts: ToolCounts } {
  const counts: ToolCounts = { inspect: 0, copy: 0, unpack: 0 };
  const tools = defaultTools(process.env, async (call) => {
    if (call.args.includes('inspect')) counts.inspect++;
    if (call.args.includes('copy')) counts.copy++;
    if (call.args.includes('unpack')) counts.unpack++;
    return execaRunner(call);
  });
  return { tools, counts };
}

/**
 * Wrapper executables for other processes (STASIS_SKOPEO / STASIS_UMOCI): each appends its argv to
 * `log` and runs the real tool; a copy first sleeps `copyDelayS`, so that concurrent callers surely
 * overlap. Count lines with `countLog`.
 */
export async function loggingWrappers(dir: string, copyDelayS = 1): Promise<{ skopeo: string; umoci: string; log: string }> {
  const log = path.join(dir, 'tools.log');
  const wrap = async (name: string) => {
    const file = path.join(dir, name);
    const delay = `case " $* " in *" copy "*) sleep ${copyDelayS} ;; esac\n`;
    await fsp.writeFile(file, `#!/bin/sh\necho "${name} $*" >> '${log}'\n${delay}exec /usr/bin/${name} "$@"\n`, { mode: 0o755 });
    return file;
  };
  return { skopeo: await wrap('skopeo'), umoci: await wrap('umoci'), log };
}

/** Lines of a wrapper log that contain `word` (e.g. ' copy ', ' raw unpack '). */
export async function countLog(log: string, word: string): Promise<number> {
  const text = await fsp.readFile(log, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes(word)).length;
}
