// The classifier's page: draw or upload an image, see the top-5 classes as labelled bars.
"use strict";
const pad = makePad(document.getElementById("pad"));

function show(r) {
  const top = document.getElementById("top-class");
  const bars = document.getElementById("bars");
  const input = document.getElementById("input");
  top.textContent = ""; bars.innerHTML = ""; input.hidden = true;
  document.getElementById("timings").textContent = "";
  if (!r) return;
  top.textContent = r.predictions[0].class;
  for (const p of r.predictions) bars.appendChild(confidenceBar(p.class, p.probability));
  input.src = "data:image/png;base64," + r.input_png;
  input.hidden = false;
  document.getElementById("timings").textContent =
    "server time " + r.timings_ms.total.toFixed(1) + " ms (" + r.model.backend + ")";
}

async function send(blob) {
  document.getElementById("error").textContent = "";
  document.getElementById("top-class").textContent = "…";
  try {
    show(await postImage("/v1/predict?k=5", blob));
  } catch (e) {
    show(null);
    document.getElementById("error").textContent = String(e.message || e);
  }
}

async function describe() {
  const m = await (await fetch("/v1/model")).json();
  document.getElementById("title").textContent = "Rosenblatt: " + m.name;
  document.getElementById("about").textContent = m.classes.length + " classes, trained on " +
    (m.dataset || "?") + (m.accuracy ? " (" + (100 * m.accuracy).toFixed(2) + "% test)" : "");
}

document.getElementById("clear").addEventListener("click", () => { pad.reset(280, 280, 18); show(null); });
document.getElementById("predict").addEventListener("click", () => pad.image(send));
document.getElementById("upload").addEventListener("change", (ev) => {
  const f = ev.target.files[0];
  if (f) { pad.showUpload(f); send(f); }
  ev.target.value = "";  // choosing the same file again predicts it again
});
pad.reset(280, 280, 18);
describe();
