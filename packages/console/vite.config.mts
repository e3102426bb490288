import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The api-gateway serves dist/ at its HTTP root; the API is on the same origin under /v1.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // elkjs is one large module (the layout engine compiled to JS); it loads on its own.
    chunkSizeWarningLimit: 2000,
  },
  // `vite` (dev server) forwards the API to a running gateway.
  server: { proxy: { "/v1": "http://127.0.0.1:8090", "/openapi.json": "http://127.0.0.1:8090" } },
});
