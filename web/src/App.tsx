import { onIdTokenChanged, signOut, type User } from "firebase/auth";
import { useEffect, useState } from "react";
import type { Backend } from "./backend";
import type { AppConfig } from "./config";
import { AdminPage } from "./pages/AdminPage";
import { SignIn } from "./pages/SignIn";
import { VideoList } from "./pages/VideoList";
import { VideoPage } from "./pages/VideoPage";
import { Link, useRoute, type Route } from "./router";

interface Session {
  user: User;
  admin: boolean;
}

export function App({ backend, config }: { backend: Backend; config: AppConfig }) {
  // undefined: Auth has not restored the session yet.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useRoute();

  useEffect(
    () =>
      onIdTokenChanged(backend.auth, async (user) => {
        if (!user) return setSession(null);
        const token = await user.getIdTokenResult();
        setSession({ user, admin: token.claims.admin === true });
      }),
    [backend],
  );

  // Move focus to the new page's heading, so keyboard and screen-reader users follow along.
  const page = session ? route.page : "signin";
  useEffect(() => {
    document.getElementById("page-title")?.focus({ preventScroll: true });
  }, [page, route.page === "video" ? route.videoId : ""]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link href="/" className="brand">
          clipstore
        </Link>
        {config.local && (
          <span className="badge local" title="Connected to the local Auth and Functions emulators">
            local emulators
          </span>
        )}
        {session && (
          <nav aria-label="Main">
            <Link href="/" aria-current={route.page === "videos" ? "page" : undefined}>
              My videos
            </Link>
            {session.admin && (
              <Link href="/admin" aria-current={route.page === "admin" ? "page" : undefined}>
                Admin
              </Link>
            )}
            <span className="muted account">{session.user.email}</span>
            <button type="button" onClick={() => void signOut(backend.auth)}>
              Sign out
            </button>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {session === undefined ? (
          <p aria-live="polite">Loading…</p>
        ) : session === null ? (
          <SignIn auth={backend.auth} demoAccounts={config.local?.demoAccounts ?? null} />
        ) : (
          <Page route={route} backend={backend} session={session} />
        )}
      </main>
    </>
  );
}

function Page({ route, backend, session }: { route: Route; backend: Backend; session: Session }) {
  switch (route.page) {
    case "videos":
      return <VideoList backend={backend} />;
    case "video":
      return <VideoPage key={route.videoId} backend={backend} videoId={route.videoId} />;
    case "admin":
      return <AdminPage backend={backend} isAdmin={session.admin} />;
    case "missing":
      return (
        <section aria-labelledby="page-title">
          <h1 id="page-title" tabIndex={-1}>
            Page not found
          </h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <Link href="/">Go to my videos</Link>.
          </p>
        </section>
      );
  }
}
