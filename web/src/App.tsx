// Routes of the dashboard (the page contract: /, /live, /messages, /user/:username, /moderation).
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { Link, Route, Routes } from "react-router";

import { ApiError } from "@/api/client";
import { ApiBaseContext } from "@/api/context";
import { Layout } from "@/components/Layout";
import { HomePage } from "@/pages/Home";
import { LivePage } from "@/pages/Live";
import { MessagesPage } from "@/pages/Messages";
import { ModerationPage } from "@/pages/Moderation";
import { UserPage } from "@/pages/User";

/** Query defaults: one retry for what may pass (network, 503), none for a refusal (400, 404). */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        retry: (failures, error) =>
          failures < 1 && error instanceof ApiError && error.transient && error.status !== 429,
        retryDelay: 1_000,
      },
    },
  });
}

function NotFound() {
  return (
    <section data-testid="page-not-found" className="py-16 text-center">
      <h1 className="text-2xl font-semibold">No such page</h1>
      <p className="mt-2 muted">
        <Link className="link" to="/">
          Back to the overview
        </Link>
      </p>
    </section>
  );
}

export function AppRoutes() {
  return (
    <Layout>
      <Routes>
        <Route path="/" element={<HomePage />} />
        <Route path="/live" element={<LivePage />} />
        <Route path="/messages" element={<MessagesPage />} />
        <Route path="/user/:username" element={<UserPage />} />
        <Route path="/moderation" element={<ModerationPage />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </Layout>
  );
}

export function App({ client, apiBase = "" }: { client: QueryClient; apiBase?: string }) {
  return (
    <ApiBaseContext.Provider value={apiBase}>
      <QueryClientProvider client={client}>
        <AppRoutes />
      </QueryClientProvider>
    </ApiBaseContext.Provider>
  );
}
