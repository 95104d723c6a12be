// Drawing pad, upload (shown in the pad), and the reading with labelled confidence bars.
"use strict";
const pad = makePad(document.getElementById("pad"));
const mode = document.getElementById("mode");

function resetPad() {
  if (mode.value === "zip") pad.reset(700, 160, 10);
  else pad.reset(280, 280, 18);
}

mode.addEventListener("change", () => { resetPad(); show(null); });
document.getElementById("clear").addEventListener("click", () => { resetPad(); show(null); });
document.getElementById("read").addEventListener("click", () => pad.image(send));
document.getElementById("upload").addEventListener("change", (ev) => {
  const f = ev.target.files[0];
  if (f) { pad.showUpload(f); send(f); }
  ev.target.value = "";  // choosing the same file again reads it again
});

async function send(blob) {
  document.getElementById("error").textContent = "";
  document.getElementById("reading").textContent = "…";
  try {
    show(await postImage("/v1/" + mode.value, blob));
  } catch (e) {
    show(null);
    document.getElementById("error").textContent = String(e.message || e);
  }
}

function show(r) {
  const reading = document.getElementById("reading");
  const decision = document.getElementById("decision");
  const reasons = document.getElementById("reasons");
  const digits = document.getElementById("digits");
  const timings = document.getElementById("timings");
  reading.textContent = ""; decision.innerHTML = ""; reasons.textContent = ""; digits.innerHTML = ""; timings.textContent = "";
  if (!r) return;
  reading.textContent = r.reading || "–";
  const badge = document.createElement("span");
  badge.className = "decision " + r.decision;
  badge.id = "decision-value";
  badge.textContent = r.decision;
  decision.appendChild(badge);
  reasons.textContent = r.reasons.map((x) => Object.entries(x).map(([k, v]) => k + "=" + v).join(" ")).join("; ");
  for (const d of r.digits) {
    const box = document.createElement("div");
    box.className = "digit";
    const img = document.createElement("img");
    img.src = "data:image/png;base64," + d.input_png;
    img.alt = "network input";
    box.appendChild(img);
    const bars = document.createElement("div");
    bars.className = "bars";
    d.probabilities.forEach((p, k) => bars.appendChild(confidenceBar(k, p)));
    box.appendChild(bars);
    digits.appendChild(box);
  }
  timings.textContent = "server time " + r.timings_ms.total.toFixed(1) + " ms";
}

resetPad();
