import { describe, expect, it } from "vitest";
import { CHART_WIDTH, chartSvg, renderWeeklyCharts, svgToPng } from "../../src/reports/weekly/chart.ts";
import { computeWeeklyReport, emptyRows } from "../../src/reports/weekly/compute.ts";
import { weekPeriod } from "../../src/reports/weekly/period.ts";
import { darkPixels, decodePng, PNG_SIGNATURE, TITLE_BOX } from "./support.ts";

const current = weekPeriod("2026-W13", "Europe/Berlin");
const previous = weekPeriod("2026-W12", "Europe/Berlin");

function sampleReport() {
  const rows = emptyRows({ key: "chart-p", name: "charts" });
  for (let i = 0; i < 80; i++) {
    const at = new Date(Date.parse(previous.start) + i * 3 * 3_600_000).toISOString();
    rows.uploads.push({ at, count: 1 + (i % 4), bytes: 250_000 * (1 + (i % 5)), unstoredCount: 0, unstoredBytes: 0 });
    rows.stores.push({ at, count: 1, bytes: 400_000 });
    rows.requests.push({ at, count: 20 + (i % 7), errors: i % 3 });
  }
  rows.storedAtStart = { count: 500, bytes: 2_000_000_000 };
  rows.mimeTypes = [
    { week: "current", mimeType: "image/jpeg", count: 50, bytes: 90_000_000 },
    { week: "previous", mimeType: "image/jpeg", count: 40, bytes: 70_000_000 },
    { week: "current", mimeType: "video/mp4", count: 3, bytes: 140_000_000 },
  ];
  rows.usage = [...current.days, ...previous.days].map((d, i) => ({ date: d.date, metric: "traffic", value: 1_000_000_000 + i * 50_000_000, unit: "bytes" }));
  return computeWeeklyReport({ rows, current, previous, generatedAt: "2026-03-30T06:00:00.000Z" });
}

describe("weekly charts", () => {
  const report = sampleReport();
  const charts = renderWeeklyCharts(report);

  it("renders every chart as a 2x PNG of its stated size", () => {
    expect(charts.map((c) => c.name)).toEqual(["uploads", "storage", "mime-types", "api-requests", "traffic"]);
    for (const chart of charts) {
      expect(chart.png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
      const image = decodePng(chart.png);
      expect([image.width, image.height]).toEqual([CHART_WIDTH * 2, chart.height * 2]);
    }
  });

  it("draws the title as text inside the image: with no font the title band is blank", () => {
    for (const chart of charts) {
      const withFont = decodePng(chart.png);
      const withoutFont = decodePng(svgToPng(chartSvg(report, chart.name), { fonts: false }));
      expect(darkPixels(withFont, TITLE_BOX), chart.name).toBeGreaterThan(500);
      expect(darkPixels(withoutFont, TITLE_BOX), chart.name).toBe(0);
    }
  });

  it("labels the axes with units and names the weeks in the legend", () => {
    const uploads = chartSvg(report, "uploads");
    expect(uploads).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(uploads).toContain("Uploads per day, 2026-W13");
    expect(uploads).toContain("Files uploaded (count)");
    expect(uploads).toContain("Day (Europe/Berlin)");
    expect(uploads).toContain("Previous week (2026-W12)");
    expect(chartSvg(report, "storage")).toContain("Stored (GB; the axis does not start at 0)");
    expect(chartSvg(report, "mime-types")).toMatch(/Uploaded this week \(MB\)/);
    expect(chartSvg(report, "traffic")).toMatch(/Traffic \(GB\)/);
  });

  it("shortens long MIME types in the middle, so the mailed chart does not cut them at its edge", () => {
    const long = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    const twin = "application/vnd.openxmlformats-officedocument.wordprocessingml.sheet";
    const withLong = { ...report, mimeTypes: [...report.mimeTypes, ...[long, twin].map((mimeType) => ({ mimeType, files: { current: 1, previous: 0 }, bytes: { current: 5_000_000, previous: 0 } }))] };
    const svg = chartSvg(withLong, "mime-types");
    expect(svg).not.toContain(long);
    const labels = [...svg.matchAll(/>(application\/vnd[^<]*)</g)].map((m) => m[1]!);
    expect(labels).toEqual(["application/vnd.o…etml.sheet", "application/vnd.o…ngml.sheet"]);
    expect(labels.every((l) => l.replace("′", "").length <= 28)).toBe(true);
  });

  it("is deterministic: the same report gives the same bytes", () => {
    expect(renderWeeklyCharts(report).map((c) => c.png.toString("base64"))).toEqual(charts.map((c) => c.png.toString("base64")));
  });

  it("draws an empty week without failing, and leaves out traffic when usage is not synced", () => {
    const empty = computeWeeklyReport({ rows: emptyRows({ key: "e", name: "e" }), current, previous, generatedAt: "2026-03-30T06:00:00.000Z" });
    const images = renderWeeklyCharts(empty);
    expect(images.map((c) => c.name)).toEqual(["uploads", "storage", "mime-types", "api-requests"]);
    for (const image of images) expect(darkPixels(decodePng(image.png), TITLE_BOX)).toBeGreaterThan(500);
  });
});
