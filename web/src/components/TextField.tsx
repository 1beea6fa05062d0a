import type { InputHTMLAttributes } from "react";

interface Props extends Omit<InputHTMLAttributes<HTMLInputElement>, "onChange" | "value"> {
  label: string;
  /** Shown after the label, e.g. what an empty field means. */
  hint?: string;
  value: string;
  onValue: (value: string) => void;
}

/** A labelled text input: the label names the field for screen readers and tests alike. */
export function TextField({ label, hint, value, onValue, ...input }: Props) {
  return (
    <label>
      <span>
        {label}
        {hint && <span className="muted"> ({hint})</span>}
      </span>
      <input {...input} value={value} onChange={(e) => onValue(e.target.value)} />
    </label>
  );
}
