// The build step after tsc: what dist/ needs besides the compiled TypeScript.
// - src/pictures/fonts/ -> dist/pictures/fonts/ (the chart font, read by the rasteriser).
// Usage: node src/build-assets.mjs   (npm run build runs it)
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

mkdirSync(join(dist, 'pictures'), { recursive: true });
cpSync(join(root, 'src/pictures/fonts'), join(dist, 'pictures/fonts'), { recursive: true });
