// ucledger dashboard: the little JavaScript the pages use. Everything works without it;
// it only shows times in the viewer's zone and follows a plan while it is applied.
"use strict";

// The zone is printed with every time (GMT+1, CET, …): a time without its zone is read as the wrong one.
const LOCAL = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" });

function localizeTimes(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) el.textContent = LOCAL.format(when);
  }
}

// A plan being applied: poll its progress through the API (the session cookie reads it)
// and reload the page once the run ends, so the results and buttons are current.
function followPlan(el) {
  const id = el.getAttribute("data-follow-plan");
  const bar = el.querySelector("progress");
  const text = el.querySelector("[data-progress-text]");
  const tick = async () => {
    try {
      const res = await fetch(`/v1/plans/${encodeURIComponent(id)}`, { headers: { accept: "application/json" } });
      if (!res.ok) return;
      const plan = await res.json();
      const p = plan.progress;
      const finished = p.done.files + p.skipped.files + p.failed.files;
      if (bar) {
        bar.max = Math.max(plan.fileCount, 1);
        bar.value = finished;
      }
      if (text) text.textContent = `${finished} of ${plan.fileCount} files handled: ${p.done.files} done, ${p.skipped.files} skipped, ${p.failed.files} failed`;
      if (plan.status !== "applying") {
        // Without ?done=: the "applying" notice is over.
        window.location.replace(window.location.pathname);
        return;
      }
    } catch {
      // The next tick tries again.
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 500);
}

document.addEventListener("DOMContentLoaded", () => {
  localizeTimes(document);
  for (const el of document.querySelectorAll("[data-follow-plan]")) followPlan(el);
});
