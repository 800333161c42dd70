import "./index.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";

import { App, createQueryClient } from "./App";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <BrowserRouter>
      <App client={createQueryClient()} apiBase={import.meta.env.VITE_API_BASE ?? ""} />
    </BrowserRouter>
  </StrictMode>,
);
