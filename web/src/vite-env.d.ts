/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Origin of the api when the page is served from elsewhere; "" (same origin) by default. */
  readonly VITE_API_BASE?: string;
}
