import { describe, expect, it } from "vitest";
import { match } from "./router";

describe("match", () => {
  it("extracts parameters", () => {
    expect(match("/projects/:id", "/projects/abc")).toEqual({ id: "abc" });
    expect(match("/jobs/:id/review", "/jobs/j1/review/")).toEqual({ id: "j1" });
  });
  it("refuses other paths", () => {
    expect(match("/projects/:id", "/jobs/abc")).toBeNull();
    expect(match("/projects/:id", "/projects/a/b")).toBeNull();
  });
});
