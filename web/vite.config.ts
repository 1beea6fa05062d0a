// Builds the client into dist/ (Firebase Hosting's public directory, see ../firebase.json).
// Locally, ../scripts/servers/web.mjs serves dist/ with the emulators' addresses injected.
import { defineConfig } from "vite";

export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
});
