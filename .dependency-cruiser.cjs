/**
 * The layering of src/ (docs/style.md): imports point one way, down this list, never up and never
 * in a circle. `npm test` runs this check (npm run lint:deps); a violation fails CI.
 *
 *   cli → node, http → queue, metrics, health → pool (→ workers/) → runtime → checkpoint, image,
 *   policy → runc, monitor, sandbox → os, host, log, events, config, errors
 *
 * A folder may import its own files and anything in a lower layer.
 */
const layers = [
  ['cli'],
  ['node', 'http'],
  ['queue', 'metrics', 'health'],
  ['pool'],
  ['runtime'],
  ['checkpoint', 'image', 'policy'],
  ['runc', 'monitor', 'sandbox'],
  ['os', 'host', 'log', 'events', 'config', 'errors'],
];

/** `src/<folder>/` (or `src/<file>.ts`) as a path pattern. */
const folder = (name) => `^src/${name}(/|\\.ts$)`;

/** For each layer: it may not import from any layer above it. */
const upward = layers.flatMap((names, i) =>
  i === 0
    ? []
    : [
        {
          name: `no-upward-from-${names.join('-')}`,
          comment: `${names.join(', ')} must not import ${layers.slice(0, i).flat().join(', ')} (a lower layer never reaches up)`,
          severity: 'error',
          from: { path: names.map(folder) },
          to: { path: layers.slice(0, i).flat().map(folder) },
        },
      ],
);

/** Folders of one layer that must not import each other (each stands alone on the layers below). */
const siblings = [
  ['runc', 'sandbox'],
  ['checkpoint', 'image'],
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycle, between files or folders',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    ...siblings.flatMap(([a, b]) => [
      { name: `no-${a}-to-${b}`, severity: 'error', from: { path: folder(a) }, to: { path: folder(b) } },
      { name: `no-${b}-to-${a}`, severity: 'error', from: { path: folder(b) }, to: { path: folder(a) } },
    ]),
    {
      name: 'workers-thin',
      comment: 'workers/ is the Piscina entry: it calls into src/pool and nothing above it',
      severity: 'error',
      from: { path: '^workers/' },
      to: { path: ['cli', 'node', 'http', 'queue'].map(folder) },
    },
    {
      name: 'src-not-test',
      comment: 'production code never imports tests or benchmarks',
      severity: 'error',
      from: { path: '^(src|workers)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
