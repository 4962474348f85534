/**
 * SVG to PNG with resvg (the only importer of @resvg/resvg-js): the font shipped in ./fonts,
 * no system fonts (the picture is the same on every machine), a white background.
 */
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';

/** Next to this module in src/ (tsx) and in dist/ (the build copies the folder). */
export const FONT_FILE = fileURLToPath(new URL('./fonts/Inter-Regular.ttf', import.meta.url));

export function rasterise(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    background: '#ffffff',
    font: {
      loadSystemFonts: false,
      fontFiles: [FONT_FILE],
      defaultFontFamily: 'Inter',
      sansSerifFamily: 'Inter',
    },
  });
  return resvg.render().asPng();
}
