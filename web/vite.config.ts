import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build lands inside the Python package so `recap serve` serves it (app/web/static.py).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../app/web/dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    // No inline module-preload polyfill: the CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      "/graphql": { target: "http://127.0.0.1:8000", ws: true },
      "/uploads": "http://127.0.0.1:8000",
      "/downloads": "http://127.0.0.1:8000",
      "/auth": "http://127.0.0.1:8000",
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
} as never);
