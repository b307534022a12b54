import { describe, expect, it } from "vitest";
import { toIpcError } from "./ipc";

describe("toIpcError", () => {
  it("keeps a backend IpcError as it is", () => {
    const e = { code: "auth_failed", message: "Wrong password", retryable: false, certificate: null };
    expect(toIpcError(e)).toEqual(e);
  });

  it("turns a thrown string or Error into an internal, retryable error with its text", () => {
    expect(toIpcError("boom")).toMatchObject({ code: "internal", message: "boom", retryable: true });
    expect(toIpcError(new Error("bad"))).toMatchObject({ code: "internal", message: "bad" });
    expect(toIpcError(undefined).message).not.toBe("");
  });
});
