// Drawing pad, upload (shown in the pad), and the reading with labelled confidence bars.
"use strict";
const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const mode = document.getElementById("mode");
let drawing = false;
let last = null;
let uploaded = null;  // the uploaded file while the pad shows it untouched: "Read" sends it

function resetPad() {
  if (mode.value === "zip") { pad.width = 700; pad.height = 160; }
  else { pad.width = 280; pad.height = 280; }
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.strokeStyle = "#000";
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = mode.value === "zip" ? 10 : 18;
  uploaded = null;
}

// Draw an uploaded image into the pad, fitted and centred on white paper.
function showUpload(file) {
  const url = URL.createObjectURL(file);
  const img = new Image();
  img.onload = () => {
    const width = ctx.lineWidth;
    resetPad();
    ctx.lineWidth = width;
    const scale = Math.min(pad.width / img.width, pad.height / img.height);
    const w = img.width * scale, h = img.height * scale;
    ctx.drawImage(img, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    uploaded = file;
    URL.revokeObjectURL(url);
  };
  img.onerror = () => URL.revokeObjectURL(url);  // the server's reply says what is wrong
  img.src = url;
}

function point(ev) {
  const r = pad.getBoundingClientRect();
  return [(ev.clientX - r.left) * pad.width / r.width, (ev.clientY - r.top) * pad.height / r.height];
}

function down(ev) { ev.preventDefault(); drawing = true; uploaded = null; last = point(ev); dot(last); }
function move(ev) {
  if (!drawing) return;
  ev.preventDefault();
  const p = point(ev);
  ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
  last = p;
}
function up() { drawing = false; }
function dot(p) { ctx.beginPath(); ctx.arc(p[0], p[1], ctx.lineWidth / 2, 0, 2 * Math.PI); ctx.fillStyle = "#000"; ctx.fill(); }

pad.addEventListener("pointerdown", down);
pad.addEventListener("pointermove", move);
window.addEventListener("pointerup", up);
pad.addEventListener("mousedown", (e) => { if (!window.PointerEvent) down(e); });
pad.addEventListener("mousemove", (e) => { if (!window.PointerEvent) move(e); });
pad.addEventListener("touchstart", (e) => { if (!window.PointerEvent) down(e.touches[0]); });
pad.addEventListener("touchmove", (e) => { if (!window.PointerEvent) move(e.touches[0]); });
pad.addEventListener("touchend", up);
mode.addEventListener("change", () => { resetPad(); show(null); });
document.getElementById("clear").addEventListener("click", () => { resetPad(); show(null); });
document.getElementById("read").addEventListener("click", () => {
  if (uploaded) send(uploaded);  // what the pad shows, at the file's own resolution
  else pad.toBlob((b) => send(b), "image/png");
});
document.getElementById("upload").addEventListener("change", (ev) => {
  const f = ev.target.files[0];
  if (f) { showUpload(f); send(f); }
  ev.target.value = "";  // choosing the same file again reads it again
});

async function send(blob) {
  const form = new FormData();
  form.append("file", blob, "image.png");
  document.getElementById("error").textContent = "";
  document.getElementById("reading").textContent = "…";
  try {
    const res = await fetch("/v1/" + mode.value, { method: "POST", body: form });
    const body = await res.json();
    if (!res.ok) { show(null); document.getElementById("error").textContent = res.status + ": " + body.detail; return; }
    show(body);
  } catch (e) {
    show(null);
    document.getElementById("error").textContent = String(e);
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
    d.probabilities.forEach((p, k) => {
      const row = document.createElement("div");
      row.className = "bar";
      const label = document.createElement("span");
      label.textContent = k;
      const fill = document.createElement("div");
      fill.style.width = Math.max(1, Math.round(100 * p)) + "px";
      fill.title = (100 * p).toFixed(2) + "%";
      const value = document.createElement("span");
      value.className = "p";
      value.textContent = (100 * p).toFixed(1) + "%";
      row.appendChild(label); row.appendChild(fill); row.appendChild(value);
      bars.appendChild(row);
    });
    box.appendChild(bars);
    digits.appendChild(box);
  }
  timings.textContent = "server time " + r.timings_ms.total.toFixed(1) + " ms";
}

resetPad();
