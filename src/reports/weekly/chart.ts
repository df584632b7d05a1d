import { createRequire } from "node:module";
import * as Plot from "@observablehq/plot";
import { Resvg } from "@resvg/resvg-js";
import { parseHTML } from "linkedom";
import type { WeeklyReport } from "./compute.ts";
import { byteScale, chartList, dayLabel, formatBytes, formatCount } from "./format.ts";

/**
 * Charts drawn server-side: Plot renders SVG into a linkedom document, the
 * title and legend are drawn as SVG text above it (Plot's own title would sit
 * outside the SVG and be lost), and resvg turns it into a PNG at 2x with the
 * bundled DejaVu Sans, so the output does not depend on the machine's fonts.
 */

export const CHART_WIDTH = 640;
const PLOT_HEIGHT = 300;
/** Room above the plot for the title and the legend. */
const HEADER_HEIGHT = 58;
const SCALE = 2;
const FONT_FAMILY = "DejaVu Sans";
const SVG_NS = "http://www.w3.org/2000/svg";

const CURRENT = "#2f6fdf";
const PREVIOUS = "#e8772e";
const ERRORS = "#d23c3c";

type Doc = ReturnType<typeof parseHTML>["document"];
type El = ReturnType<Doc["createElementNS"]>;

const require = createRequire(import.meta.url);
/** DejaVu Sans from the npm package: resvg reads TTF, and no system font is assumed. */
export const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => require.resolve(`dejavu-fonts-ttf/ttf/${f}`));

export interface ChartImage {
  name: string;
  title: string;
  /** CSS pixels; the PNG is SCALE times larger. */
  width: number;
  height: number;
  png: Buffer;
}

interface LegendEntry {
  label: string;
  color: string;
  shape: "box" | "tick" | "line" | "dashed";
}

interface ChartSpec {
  plot: Record<string, unknown>;
  legend: LegendEntry[];
  height: number;
}

/** Every chart of the report, as PNG. */
export function renderWeeklyCharts(report: WeeklyReport): ChartImage[] {
  return chartList(report).map(({ name, title }) => {
    const svg = chartSvg(report, name);
    const { height } = chartSpec(report, name);
    return { name, title, width: CHART_WIDTH, height: height + HEADER_HEIGHT, png: svgToPng(svg) };
  });
}

/** One chart as a standalone SVG document. */
export function chartSvg(report: WeeklyReport, name: string): string {
  const chart = chartList(report).find((c) => c.name === name);
  if (!chart) throw new RangeError(`no chart named ${name} in this report`);
  const spec = chartSpec(report, name);
  const { document } = parseHTML("<!doctype html><html><body></body></html>");
  const plot = Plot.plot({
    document,
    width: CHART_WIDTH,
    height: spec.height,
    style: { fontFamily: FONT_FAMILY, fontSize: "12px", background: "white", color: "#222" },
    ...spec.plot,
  } as Plot.PlotOptions) as unknown as El;
  if (plot.tagName.toLowerCase() !== "svg") throw new Error(`Plot returned a ${plot.tagName}, not an svg: titles and legends belong in the header`);

  const total = spec.height + HEADER_HEIGHT;
  const root = document.createElementNS(SVG_NS, "svg");
  root.setAttribute("xmlns", SVG_NS);
  root.setAttribute("width", String(CHART_WIDTH));
  root.setAttribute("height", String(total));
  root.setAttribute("viewBox", `0 0 ${CHART_WIDTH} ${total}`);
  root.setAttribute("font-family", FONT_FAMILY);
  const background = element(document, "rect", { x: 0, y: 0, width: CHART_WIDTH, height: total, fill: "white" });
  root.appendChild(background);
  root.appendChild(text(document, chart.title, { x: 12, y: 24, "font-size": 17, "font-weight": "bold", fill: "#111" }));
  let x = 12;
  for (const entry of spec.legend) {
    root.appendChild(swatch(document, entry, x, 38));
    root.appendChild(text(document, entry.label, { x: x + 20, y: 47, "font-size": 12, fill: "#333" }));
    x += 32 + Math.ceil(entry.label.length * 6.6);
  }
  plot.setAttribute("x", "0");
  plot.setAttribute("y", String(HEADER_HEIGHT));
  root.appendChild(plot);
  return root.outerHTML;
}

/** SVG → PNG at 2x. `fonts: false` draws with no font at all (resvg then skips every text): for tests. */
export function svgToPng(svg: string, options: { fonts?: boolean } = {}): Buffer {
  const fonts = options.fonts ?? true;
  const resvg = new Resvg(svg, {
    font: fonts
      ? { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY }
      : { loadSystemFonts: false, fontFiles: [] },
    fitTo: { mode: "zoom", value: SCALE },
    background: "white",
    logLevel: "off",
  });
  return resvg.render().asPng();
}

function element(document: Doc, tag: string, attrs: Record<string, string | number>): El {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function text(document: Doc, content: string, attrs: Record<string, string | number>): El {
  const el = element(document, "text", { "text-anchor": "start", "font-family": FONT_FAMILY, ...attrs });
  el.textContent = content;
  return el;
}

function swatch(document: Doc, entry: LegendEntry, x: number, y: number): El {
  if (entry.shape === "box") return element(document, "rect", { x, y, width: 14, height: 12, fill: entry.color });
  if (entry.shape === "tick") return element(document, "rect", { x, y: y + 5, width: 14, height: 3, fill: entry.color });
  const dash: Record<string, string> = entry.shape === "dashed" ? { "stroke-dasharray": "4 2" } : {};
  return element(document, "line", { x1: x, x2: x + 14, y1: y + 6, y2: y + 6, stroke: entry.color, "stroke-width": 3, ...dash });
}

function weekLegend(report: WeeklyReport, current: LegendEntry["shape"], previous: LegendEntry["shape"]): LegendEntry[] {
  return [
    { label: `This week (${report.period.week})`, color: CURRENT, shape: current },
    { label: `Previous week (${report.period.previousWeek})`, color: PREVIOUS, shape: previous },
  ];
}

/** A domain from zero that stays readable when every value is zero; counts get whole-number ticks. */
const fromZero = (max: number, minTop = 1) => [0, Math.max(max * 1.15, minTop)];
const COUNT_TOP = 5;

/** Said in the middle of a chart whose figures are all zero, so a blank chart is not taken for a broken one. */
const emptyNote = (isEmpty: boolean, note: string) => (isEmpty ? [Plot.text([note], { frameAnchor: "middle", fontSize: 14, fill: "#666" })] : []);

function chartSpec(report: WeeklyReport, name: string): ChartSpec {
  const labels = report.days.map((d) => dayLabel(d.date));
  const dayAxis = { label: `Day (${report.period.timezone})`, labelAnchor: "center", labelOffset: 36, domain: labels, tickSize: 0 } as const;
  const frame = { marginLeft: 64, marginRight: 20, marginTop: 22, marginBottom: 48 };

  switch (name) {
    case "uploads": {
      const rows = report.days.map((d, i) => ({ day: labels[i]!, current: d.uploads.current, previous: d.uploads.previous }));
      const max = Math.max(...rows.map((r) => Math.max(r.current, r.previous)));
      return {
        height: PLOT_HEIGHT,
        legend: weekLegend(report, "box", "tick"),
        plot: {
          ...frame,
          x: { ...dayAxis, padding: 0.25 },
          y: { label: "Files uploaded (count)", grid: true, domain: fromZero(max, COUNT_TOP), labelAnchor: "top" },
          marks: [
            ...emptyNote(max === 0, "No uploads in either week"),
            Plot.barY(rows, { x: "day", y: "current", fill: CURRENT }),
            Plot.tickY(rows, { x: "day", y: "previous", stroke: PREVIOUS, strokeWidth: 3 }),
            Plot.text(rows, { x: "day", y: "current", text: (r: { current: number }) => formatCount(r.current), dy: -8, fontSize: 11, fill: "#222" }),
            Plot.ruleY([0]),
          ],
        },
      };
    }
    case "storage": {
      const values = report.days.flatMap((d) => [d.storageBytesAtEnd.current, d.storageBytesAtEnd.previous]);
      const { unit, divisor } = byteScale(Math.max(...values, 0));
      const rows = report.days.flatMap((d, i) => [
        { day: labels[i]!, week: "current", value: d.storageBytesAtEnd.current / divisor },
        { day: labels[i]!, week: "previous", value: d.storageBytesAtEnd.previous / divisor },
      ]);
      const scaled = rows.map((r) => r.value);
      const min = Math.min(...scaled);
      const max = Math.max(...scaled);
      // Not from zero: the level is in the table, the chart shows how it moved.
      const pad = max > min ? (max - min) * 0.15 : Math.max(max * 0.05, 1);
      const lower = Math.max(0, min - pad);
      const upper = max === 0 ? COUNT_TOP : max + pad;
      const current = rows.filter((r) => r.week === "current");
      return {
        height: PLOT_HEIGHT,
        legend: [
          { label: `This week (${report.period.week})`, color: CURRENT, shape: "line" },
          { label: `Previous week (${report.period.previousWeek})`, color: PREVIOUS, shape: "dashed" },
        ],
        plot: {
          ...frame,
          x: { ...dayAxis, type: "point", padding: 0.4 },
          y: { label: `Stored (${unit}${lower > 0 ? "; the axis does not start at 0" : ""})`, grid: true, domain: [lower, upper], labelAnchor: "top" },
          marks: [
            ...emptyNote(max === 0, "Nothing stored in either week"),
            Plot.lineY(rows.filter((r) => r.week === "previous"), { x: "day", y: "value", stroke: PREVIOUS, strokeWidth: 2.5, strokeDasharray: "6 3" }),
            Plot.lineY(current, { x: "day", y: "value", stroke: CURRENT, strokeWidth: 3 }),
            Plot.dot(current, { x: "day", y: "value", fill: CURRENT, r: 4 }),
          ],
        },
      };
    }
    case "mime-types": {
      const list = report.mimeTypes;
      const { unit, divisor } = byteScale(Math.max(...list.map((m) => Math.max(m.bytes.current, m.bytes.previous)), 0));
      const labels = shortMimeLabels(list.map((m) => m.mimeType));
      const rows = list.map((m, i) => ({ mime: labels[i]!, current: m.bytes.current / divisor, previous: m.bytes.previous / divisor, label: formatBytes(m.bytes.current) }));
      const height = Math.max(140, 70 + 30 * Math.max(rows.length, 1));
      return {
        height,
        legend: weekLegend(report, "box", "tick"),
        plot: {
          marginLeft: 190,
          marginRight: 70,
          marginTop: 10,
          marginBottom: 44,
          y: { label: null, domain: rows.length ? rows.map((r) => r.mime) : ["(no uploads)"], tickSize: 0, padding: 0.25 },
          x: { label: `Uploaded this week (${unit})`, grid: true, domain: fromZero(Math.max(...rows.map((r) => Math.max(r.current, r.previous)), 0)), labelAnchor: "center", labelOffset: 34 },
          marks: [
            ...emptyNote(rows.length === 0, "No uploads in either week"),
            Plot.barX(rows, { y: "mime", x: "current", fill: CURRENT }),
            Plot.tickX(rows, { y: "mime", x: "previous", stroke: PREVIOUS, strokeWidth: 3 }),
            Plot.text(rows, { y: "mime", x: "current", text: "label", textAnchor: "start", dx: 6, fontSize: 11, fill: "#222" }),
            Plot.ruleX([0]),
          ],
        },
      };
    }
    case "api-requests": {
      const rows = report.apiRequests.days.flatMap((d, i) => [
        { day: labels[i]!, kind: "Answered", value: d.requests.current - d.errors.current },
        { day: labels[i]!, kind: "Errors", value: d.errors.current },
      ]);
      const previous = report.apiRequests.days.map((d, i) => ({ day: labels[i]!, value: d.requests.previous }));
      const max = Math.max(...report.apiRequests.days.map((d) => Math.max(d.requests.current, d.requests.previous)));
      return {
        height: PLOT_HEIGHT,
        legend: [
          { label: "Answered below 400", color: CURRENT, shape: "box" },
          { label: "Errors (4xx, 5xx, no answer)", color: ERRORS, shape: "box" },
          { label: `All, ${report.period.previousWeek}`, color: PREVIOUS, shape: "tick" },
        ],
        plot: {
          ...frame,
          x: { ...dayAxis, padding: 0.25 },
          y: { label: "Requests (count)", grid: true, domain: fromZero(max, COUNT_TOP), labelAnchor: "top" },
          color: { domain: ["Answered", "Errors"], range: [CURRENT, ERRORS] },
          marks: [
            ...emptyNote(max === 0, "No requests to Uploadcare recorded in either week"),
            Plot.barY(rows, { x: "day", y: "value", fill: "kind", order: ["Answered", "Errors"] }),
            Plot.tickY(previous, { x: "day", y: "value", stroke: PREVIOUS, strokeWidth: 3 }),
            Plot.ruleY([0]),
          ],
        },
      };
    }
    case "traffic": {
      const metric = report.usage.metrics.find((m) => m.metric === "traffic")!;
      const { unit, divisor } = byteScale(Math.max(...metric.days.map((d) => Math.max(d.current ?? 0, d.previous ?? 0)), 0));
      const rows = metric.days.map((d, i) => ({ day: labels[i]!, current: (d.current ?? 0) / divisor, previous: (d.previous ?? 0) / divisor }));
      return {
        height: PLOT_HEIGHT,
        legend: weekLegend(report, "box", "tick"),
        plot: {
          ...frame,
          x: { ...dayAxis, label: "Day (Uploadcare's usage days)", padding: 0.25 },
          y: { label: `Traffic (${unit})`, grid: true, domain: fromZero(Math.max(...rows.map((r) => Math.max(r.current, r.previous)))), labelAnchor: "top" },
          marks: [
            Plot.barY(rows, { x: "day", y: "current", fill: CURRENT }),
            Plot.tickY(rows, { x: "day", y: "previous", stroke: PREVIOUS, strokeWidth: 3 }),
            Plot.ruleY([0]),
          ],
        },
      };
    }
    default:
      throw new RangeError(`no chart named ${name}`);
  }
}

/**
 * The MIME chart's labels sit in a 190-pixel margin, which cut long types
 * (`application/vnd.openxmlformats-officedocument…`) at the image's edge, in
 * the mailed report and on the dashboard alike. Longer ones are shortened in
 * the middle, so the family and the subtype's end stay readable (the MIME
 * table beside the chart has them whole); two that shorten alike stay distinct.
 */
export const MIME_LABEL_MAX_CHARS = 28;

export function shortMimeLabel(mime: string): string {
  if (mime.length <= MIME_LABEL_MAX_CHARS) return mime;
  const keep = MIME_LABEL_MAX_CHARS - 1;
  const head = Math.ceil(keep * 0.6);
  return `${mime.slice(0, head)}…${mime.slice(mime.length - (keep - head))}`;
}

function shortMimeLabels(mimes: string[]): string[] {
  const seen = new Set<string>();
  return mimes.map((mime) => {
    let label = shortMimeLabel(mime);
    while (seen.has(label)) label = `${label}′`;
    seen.add(label);
    return label;
  });
}
