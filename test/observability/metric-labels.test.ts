import { describe, expect, it } from "vitest";
import { httpLabels } from "../../src/observability/http-metrics.ts";
import { uploadcareOperation } from "../../src/observability/uploadcare-metrics.ts";

/** Labels come from closed sets: no path, uuid or invented verb becomes a series of its own. */
describe("metric labels", () => {
  it("names every Uploadcare request ucledger makes by operation, anything else `other`", () => {
    const uuid = "3c269810-c17b-4e2c-92b6-25622464d866";
    expect(uploadcareOperation("GET", "/files/")).toBe("list_files");
    expect(uploadcareOperation("GET", `/files/${uuid}/`)).toBe("get_file");
    expect(uploadcareOperation("PUT", "/files/storage/")).toBe("store_files");
    expect(uploadcareOperation("DELETE", "/files/storage/")).toBe("delete_files");
    expect(uploadcareOperation("POST", "/files/remote_copy/")).toBe("copy_file_to_remote");
    expect(uploadcareOperation("GET", "/webhooks/")).toBe("list_webhooks");
    expect(uploadcareOperation("POST", "/webhooks/")).toBe("create_webhook");
    expect(uploadcareOperation("PUT", "/webhooks/1234/")).toBe("update_webhook");
    expect(uploadcareOperation("get", "/projects/demopublickey/usage/")).toBe("get_usage");
    expect(uploadcareOperation("DELETE", `/files/${uuid}/`)).toBe("other");
    expect(uploadcareOperation("GET", `/files/${uuid}/metadata/`)).toBe("other");
  });

  it("labels HTTP requests by method, route template and status class", () => {
    expect(httpLabels("GET", "/v1/files/{uuid}", 404)).toEqual({ method: "GET", route: "/v1/files/{uuid}", status_class: "4xx" });
    expect(httpLabels("post", "/v1/plans", 201)).toEqual({ method: "POST", route: "/v1/plans", status_class: "2xx" });
    expect(httpLabels("PROPFIND", null, 404)).toEqual({ method: "other", route: "unmatched", status_class: "4xx" });
    expect(httpLabels("GET", "/healthz", 503).status_class).toBe("5xx");
  });
});
