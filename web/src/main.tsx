import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { createBackend } from "./backend";
import { loadConfig } from "./config";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);
loadConfig()
  .then((config) => {
    const backend = createBackend(config);
    root.render(
      <StrictMode>
        <App backend={backend} config={config} />
      </StrictMode>,
    );
  })
  .catch((e: unknown) => {
    root.render(
      <main id="main">
        <h1>clipstore cannot start</h1>
        <p role="alert">{String(e)}</p>
      </main>,
    );
  });
