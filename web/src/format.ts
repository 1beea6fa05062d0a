import { formatSize } from "../../functions/src/contract";

/** Decimal units, as the API's `size` ("12.3 MB"): the API's own function. */
export const formatBytes = formatSize;

/** 75.5 → "1:15.5", 3725 → "1:02:05". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "unknown";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round((seconds % 60) * 10) / 10;
  const ss = (s < 10 ? "0" : "") + String(s);
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export function formatDate(iso: string | null): string {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function styleLabel(style: string): string {
  return style.replace(/_/g, " ");
}
