import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Relative base: the orchestrator serves dist/ at `/`, and a relative base keeps
// the bundle working if it is ever mounted under a prefix.
export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      // SSE goes through the same proxy; Vite's proxy streams it unbuffered.
      '/v1': { target: 'http://127.0.0.1:7070', changeOrigin: true },
      '/healthz': { target: 'http://127.0.0.1:7070', changeOrigin: true },
    },
  },
});
