/// <reference types="vitest/config" />
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

// web/dist/README.md is the placeholder kept in Git so that the Go embed has something to
// hold before the first build; emptyOutDir removes it, so the build puts it back.
function keepPlaceholder(): Plugin {
  const file = resolve(import.meta.dirname, 'dist/README.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : null;
  return {
    name: 'cubit-keep-dist-placeholder',
    apply: 'build',
    closeBundle() {
      if (text !== null) writeFileSync(file, text);
    },
  };
}

export default defineConfig({
  base: '/',
  plugins: [keepPlaceholder()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
