import { defineConfig } from 'vite'

// The dashboard is built into the package (dist/web) and served by `weir serve`: no CDN, works offline.
export default defineConfig({
  root: 'web',
  base: './',
  build: { outDir: '../dist/web', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  logLevel: 'warn',
})
