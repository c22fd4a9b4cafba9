/** What every part of the image store shares: its paths, its tools, its lock timeout. */
import type { StorePaths } from './paths.js';
import type { ImageTools } from './tools.js';

/** The shared state of one open image store. */
export interface StoreContext {
  paths: StorePaths;
  tools: ImageTools;
  /** How long to wait for another thread's or process' pull or unpack of the same image. */
  lockTimeoutMs: number;
}
