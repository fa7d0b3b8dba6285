import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Where `npm run dev` sends /v1: the quick-start orchestrator unless told otherwise.
const api = process.env.ORRERY_API ?? 'http://127.0.0.1:7070';

// Relative base: the orchestrator serves dist/ at `/`, and a relative base keeps
// the bundle working if it is ever mounted under a prefix.
export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      // SSE goes through the same proxy; Vite's proxy streams it unbuffered.
      '/v1': { target: api, changeOrigin: true },
      '/healthz': { target: api, changeOrigin: true },
    },
  },
});
