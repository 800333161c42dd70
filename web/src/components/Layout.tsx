// The frame of every page: skip link, navigation, theme toggle, and the zone times are shown in.
import { type ReactNode, useEffect, useRef } from "react";
import { NavLink, useLocation } from "react-router";

import { useTheme } from "@/hooks/useTheme";
import { timeZoneLabel } from "@/lib/format";

const NAV = [
  { to: "/", label: "Home", end: true },
  { to: "/live", label: "Live", end: false },
  { to: "/messages", label: "Messages", end: false },
  { to: "/moderation", label: "Moderation", end: false },
] as const;

function ThemeIcon({ dark }: { dark: boolean }) {
  return dark ? (
    <svg aria-hidden="true" viewBox="0 0 24 24" className="size-5" fill="none" stroke="currentColor" strokeWidth="2">
      <circle cx="12" cy="12" r="4" />
      <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
    </svg>
  ) : (
    <svg aria-hidden="true" viewBox="0 0 24 24" className="size-5" fill="none" stroke="currentColor" strokeWidth="2">
      <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
    </svg>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { theme, toggle } = useTheme();
  const location = useLocation();
  const mainRef = useRef<HTMLElement>(null);
  const shownPath = useRef(location.pathname);

  // After a client-side navigation, move focus to the new page as a full page load would.
  useEffect(() => {
    if (shownPath.current === location.pathname) return;
    shownPath.current = location.pathname;
    mainRef.current?.focus({ preventScroll: true });
  }, [location.pathname]);

  return (
    <div className="flex min-h-screen flex-col">
      <a
        href="#main"
        className="sr-only z-50 rounded-md bg-violet-600 px-3 py-2 text-white focus:not-sr-only focus:fixed focus:left-2 focus:top-2"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-30 border-b border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-950/90">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-1 px-3 py-2 sm:px-6">
          <span className="mr-2 flex items-center gap-2 font-semibold">
            <svg aria-hidden="true" viewBox="0 0 32 32" className="size-6">
              <rect width="32" height="32" rx="7" fill="#7c3aed" />
              <path d="M9 9h14v10h-5l-4 4v-4H9z" fill="#fff" />
            </svg>
            <span className="hidden sm:inline">Chat archive</span>
          </span>
          <nav aria-label="Main" className="order-3 w-full sm:order-none sm:w-auto">
            <ul className="flex gap-1 overflow-x-auto">
              {NAV.map((item) => (
                <li key={item.to}>
                  <NavLink
                    to={item.to}
                    end={item.end}
                    className={({ isActive }) =>
                      `block rounded-md px-2.5 py-1.5 text-sm font-medium ${
                        isActive
                          ? "bg-violet-100 text-violet-900 dark:bg-violet-950 dark:text-violet-100"
                          : "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
                      }`
                    }
                  >
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <span className="ml-auto hidden text-xs muted md:inline" title="Every time on these pages is in this zone">
            Times in {timeZoneLabel()}
          </span>
          <button
            type="button"
            onClick={toggle}
            aria-label="Toggle theme"
            title={theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme"}
            aria-pressed={theme === "dark"}
            className="btn ml-auto px-2 md:ml-0"
          >
            <ThemeIcon dark={theme === "dark"} />
          </button>
        </div>
      </header>
      <main
        id="main"
        ref={mainRef}
        tabIndex={-1}
        className="mx-auto w-full max-w-7xl flex-1 px-3 py-4 outline-none sm:px-6"
      >
        {children}
      </main>
      <footer className="border-t border-zinc-200 px-3 py-3 text-center text-xs muted dark:border-zinc-800">
        Times in {timeZoneLabel()} ·{" "}
        <a className="link" href="/api/schema/swagger">
          API docs
        </a>
      </footer>
    </div>
  );
}
