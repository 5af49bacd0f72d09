// Typed API error codes in words a creator understands.
const WORDS: Record<string, string> = {
  UNAUTHENTICATED: "Your session has ended or the email and password do not match. Please sign in again.",
  TOKEN_REUSED: "For your safety this session was closed. Please sign in again.",
  PERMISSION_DENIED: "Your role in this workspace does not allow this. Ask an admin.",
  NOT_FOUND: "We could not find that. It may have been deleted, or it belongs to another workspace.",
  VALIDATION_FAILED: "Some of the details are not valid.",
  WEAK_PASSWORD: "That password is too easy to guess. Try a few uncommon words together.",
  QUOTA_EXCEEDED: "Your workspace has reached a limit of its plan.",
  CONFLICT: "That conflicts with the current state (for example, this email cannot be registered: sign in instead).",
  RATE_LIMITED: "Too many attempts. Please wait a moment and try again.",
  CSRF_REJECTED: "The request was refused for your safety. Reload the page and try again.",
  UNAVAILABLE: "The service is not reachable right now. We will keep trying.",
  UPSCALE_UNAVAILABLE: "4K upscaling needs a GPU worker, and none is online right now.",
  MODERATION_REJECTED: "A moderator rejected this render.",
};

export interface CodedError { code: string; message: string; field?: string | null }

export function describe(error: CodedError): string {
  const words = WORDS[error.code] ?? "Something went wrong.";
  const detail = error.message && error.message !== words ? ` (${error.message})` : "";
  return `${words}${detail}`;
}

/** The typed error member of a mutation's union result, if the result is one. */
export function asError(result: { __typename: string } & Partial<CodedError>): CodedError | null {
  return result.code ? { code: result.code, message: result.message ?? "", field: result.field ?? null } : null;
}
