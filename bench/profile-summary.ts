// Reads V8 .cpuprofile files (written by `--cpu-prof`, see PROFILE_DIR in
// bench/README.md) and prints where the time went: self time by function and
// by package, so a figure in docs/benchmarks.md can say what it is made of.
//   npx tsx bench/profile-summary.ts /tmp/prof [top]
// Hand-written because the profile format is a flat node list with sample
// counts, and every viewer we found is interactive (DevTools, speedscope).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

const dir = process.argv[2] ?? '/tmp/prof';
const top = Number(process.argv[3] ?? 15);

/** Which package or part of Aqueduct a script URL belongs to. */
function area(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] ?? url;
  const own = /\/(src|dist)\/(.*?)\/[^/]+$/.exec(url);
  if (own) return `aqueduct:${own[2]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url === '' ? '(native / gc / idle)' : path.basename(url);
}

function add(map: Map<string, number>, key: string, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

function print(title: string, map: Map<string, number>, total: number): void {
  process.stdout.write(`${title}\n`);
  for (const [key, n] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`  ${((100 * n) / total).toFixed(1).padStart(5)}%  ${key}\n`);
  }
}

for (const file of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Profile;
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    total += hits;
    add(byFunction, `${functionName || '(anonymous)'} ${path.basename(url)}:${lineNumber + 1}`, hits);
    add(byArea, area(url), hits);
  }
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  process.stdout.write(`# ${file}: ${seconds.toFixed(1)} s, ${total} samples\n`);
  print('by area (self time)', byArea, total);
  print('by function (self time)', byFunction, total);
}
