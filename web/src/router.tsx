// Three pages, addressed by path so a video's address can be shared or typed:
//   /                  my videos
//   /videos/{videoId}  one video
//   /admin             migration and read mode (admin claim)
// Firebase Hosting rewrites every path to index.html (firebase.json), as the local server does.
import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from "react";

export type Route =
  | { page: "videos" }
  | { page: "video"; videoId: string }
  | { page: "admin" }
  | { page: "missing"; path: string };

export function parseRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "") return { page: "videos" };
  if (pathname === "/admin") return { page: "admin" };
  const video = /^\/videos\/([^/]+)\/?$/.exec(pathname);
  if (video) return { page: "video", videoId: decodeURIComponent(video[1]) };
  return { page: "missing", path: pathname };
}

export function videoPath(videoId: string): string {
  return `/videos/${encodeURIComponent(videoId)}`;
}

const listeners = new Set<() => void>();
window.addEventListener("popstate", () => listeners.forEach((l) => l()));

export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, "", path);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return parseRoute(path);
}

/** An ordinary link (open in a new tab works) that navigates in place on a plain click. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return <a {...props} onClick={onClick} />;
}
