// Builds the pages' one stylesheet for build.rs: the NL Design System's example
// theme and components, then our tokens and layout (web/loket.css), cut down to what
// the pages use and minified.
//
// Why cut: the component library holds every component (about 600 KB); the pages use
// a few dozen classes. PurgeCSS keeps the rules whose selectors name a word found in
// the templates, the page code or the script, and the custom properties that a kept
// rule reads (`variables`), so the theme's thousands of tokens shrink to those used.
// Every class the pages use is written out whole in templates/ or src/web/ (never
// glued together from parts), which is what makes this safe.
//
// Usage: node web/build-css.mjs OUT.css   (run from the repository root)

import { readFileSync, writeFileSync } from 'node:fs';
import { PurgeCSS } from 'purgecss';
import { minify } from 'csso';

const PARTS = [
  // The example theme's tokens (the `voorbeeld-theme` class).
  'web/node_modules/@nl-design-system-unstable/voorbeeld-design-tokens/dist/theme.css',
  // The components.
  'web/node_modules/@utrecht/component-library-css/dist/index.css',
  // Our own tokens (the profile's colours as --loket-* properties) and the page layout.
  'web/loket.css',
];

const out = process.argv[2];
if (!out) {
  console.error('usage: node web/build-css.mjs OUT.css');
  process.exit(2);
}

const whole = PARTS.map((part) => readFileSync(part, 'utf8')).join('\n');
const [purged] = await new PurgeCSS().purge({
  content: ['templates/**/*.html', 'src/web/**/*.rs', 'web/loket.js'],
  css: [{ raw: whole }],
  variables: true,
  fontFace: true,
  keyframes: true,
});
// `restructure: false`: only whitespace and comments go, rules stay in their order
// (the cascade between the library and loket.css depends on it).
const css = minify(purged.css, { restructure: false, comments: false }).css;
writeFileSync(out, css);
