import { describe, type CodedError } from "../api/errors";

export function ErrorNote({ error }: { error: CodedError | string | null }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : describe(error);
  return <p className="error" role="alert">{text}</p>;
}
