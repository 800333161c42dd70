// Where the api is: "" (same origin) in the app; tests point it at a local server.
import { createContext, useContext } from "react";

export const ApiBaseContext = createContext("");

export function useApiBase(): string {
  return useContext(ApiBaseContext);
}
