// Build and dev server of the dashboard. `npm run dev` serves it on :5173 beside `make run`,
// sending the REST calls to the api (:8000) and the live feed to the gateway (:8001).
import { fileURLToPath, URL } from "node:url";

import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const API = process.env.ARCHIVE_API ?? "http://127.0.0.1:8000";
const GATEWAY = process.env.ARCHIVE_GATEWAY ?? "ws://127.0.0.1:8001";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  server: {
    port: 5173,
    proxy: {
      // The more specific path first: the live feed is the gateway's, every other /api the api's.
      "/api/live": { target: GATEWAY, ws: true, changeOrigin: true },
      "/api": { target: API, changeOrigin: true },
    },
  },
  build: {
    outDir: "dist",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
