import { describe, expect, it } from "vitest";
import { asError, describe as words } from "./errors";

describe("errors in words", () => {
  it("explains a typed code and keeps the server's detail", () => {
    expect(words({ code: "QUOTA_EXCEEDED", message: "concurrent jobs: 3 of 3" }))
      .toBe("Your workspace has reached a limit of its plan. (concurrent jobs: 3 of 3)");
    expect(words({ code: "SOMETHING_NEW", message: "x" })).toBe("Something went wrong. (x)");
    expect(words({ code: "WEAK_PASSWORD", message: "" })).toContain("too easy to guess");
  });
  it("picks the error member of a union result", () => {
    expect(asError({ __typename: "ProjectPayload" })).toBeNull();
    expect(asError({ __typename: "NotFoundError", code: "NOT_FOUND", message: "gone", field: "id" }))
      .toEqual({ code: "NOT_FOUND", message: "gone", field: "id" });
  });
});
