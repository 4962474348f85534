// The build step after tsc: what dist/ needs besides the compiled TypeScript.
// - src/pictures/fonts/ -> dist/pictures/fonts/ (the chart font, read by the rasteriser);
// - src/app-ui/ -> dist/app-ui/view.html: the MCP App's view as one self-contained HTML file
//   (esbuild bundles main.ts and everything it imports into one inline script; the style is
//   inline too). Its Content-Security-Policy allows that one script and that one style by their
//   SHA-256 hashes and nothing else: no other script, no inline event handler, no network.
// Usage: node src/build-assets.mjs [OUT_DIST]   (npm run build runs it; default: dist/)
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.argv[2] ?? join(root, 'dist');

mkdirSync(join(dist, 'pictures'), { recursive: true });
cpSync(join(root, 'src/pictures/fonts'), join(dist, 'pictures/fonts'), { recursive: true });

const bundle = await build({
  entryPoints: [join(root, 'src/app-ui/main.ts')],
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  write: false,
  legalComments: 'none',
  logLevel: 'warning',
});
// An inline script ends at the first "</script": esbuild escapes it in strings, this makes sure.
const script = bundle.outputFiles[0].text.replaceAll('</script', '<\\/script');
const style = readFileSync(join(root, 'src/app-ui/style.css'), 'utf8');
const hash = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const csp = [
  "default-src 'none'",
  `script-src ${hash(script)}`,
  `style-src ${hash(style)}`,
  'img-src data:',
  "font-src 'none'",
  "connect-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
const page = readFileSync(join(root, 'src/app-ui/page.html'), 'utf8');
// Replacement functions, not strings: a bundle is full of `$&` and `$'`.
const html = page
  .replace(
    '<meta charset="utf-8" />',
    () => `<meta charset="utf-8" />\n    <meta http-equiv="Content-Security-Policy" content="${csp}" />`,
  )
  .replace('</head>', () => `<style>${style}</style>\n  </head>`)
  .replace('</body>', () => `<script>${script}</script>\n  </body>`);
if (!html.includes(script) || !html.includes(style))
  throw new Error('the view page lost its script or style');
mkdirSync(join(dist, 'app-ui'), { recursive: true });
writeFileSync(join(dist, 'app-ui/view.html'), html);
