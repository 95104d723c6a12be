// The drawing pad the pages share: draw with a mouse, pen or finger (black ink on white); an
// uploaded image is shown fitted and centred, and pad.uploaded holds it until one draws again.
"use strict";

function makePad(canvas) {
  const ctx = canvas.getContext("2d");
  const pad = { canvas: canvas, uploaded: null };
  let drawing = false;
  let last = null;

  pad.reset = (width, height, lineWidth) => {
    canvas.width = width; canvas.height = height;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.strokeStyle = "#000";
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = lineWidth;
    pad.uploaded = null;
  };

  pad.showUpload = (file) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => {
      pad.reset(canvas.width, canvas.height, ctx.lineWidth);
      const scale = Math.min(canvas.width / img.width, canvas.height / img.height);
      const w = img.width * scale, h = img.height * scale;
      ctx.drawImage(img, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      pad.uploaded = file;
      URL.revokeObjectURL(url);
    };
    img.onerror = () => URL.revokeObjectURL(url);  // the server's reply says what is wrong
    img.src = url;
  };

  // what "Read"/"Predict" sends: the uploaded file at its own resolution, else the drawing
  pad.image = (then) => {
    if (pad.uploaded) then(pad.uploaded);
    else canvas.toBlob((b) => then(b), "image/png");
  };

  function point(ev) {
    const r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * canvas.width / r.width,
            (ev.clientY - r.top) * canvas.height / r.height];
  }
  function dot(p) {
    ctx.beginPath(); ctx.arc(p[0], p[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
    ctx.fillStyle = "#000"; ctx.fill();
  }
  function down(ev) { ev.preventDefault(); drawing = true; pad.uploaded = null; last = point(ev); dot(last); }
  function move(ev) {
    if (!drawing) return;
    ev.preventDefault();
    const p = point(ev);
    ctx.beginPath(); ctx.moveTo(last[0], last[1]); ctx.lineTo(p[0], p[1]); ctx.stroke();
    last = p;
  }
  function up() { drawing = false; }

  canvas.addEventListener("pointerdown", down);
  canvas.addEventListener("pointermove", move);
  window.addEventListener("pointerup", up);
  canvas.addEventListener("mousedown", (e) => { if (!window.PointerEvent) down(e); });
  canvas.addEventListener("mousemove", (e) => { if (!window.PointerEvent) move(e); });
  canvas.addEventListener("touchstart", (e) => { if (!window.PointerEvent) down(e.touches[0]); });
  canvas.addEventListener("touchmove", (e) => { if (!window.PointerEvent) move(e.touches[0]); });
  canvas.addEventListener("touchend", up);
  return pad;
}

// One labelled confidence bar: the label, a bar as wide as the probability, the percentage.
function confidenceBar(label, p) {
  const row = document.createElement("div");
  row.className = "bar";
  const name = document.createElement("span");
  name.className = "label";
  name.textContent = label;
  const fill = document.createElement("div");
  fill.style.width = Math.max(1, Math.round(100 * p)) + "px";
  fill.title = (100 * p).toFixed(2) + "%";
  const value = document.createElement("span");
  value.className = "p";
  value.textContent = (100 * p).toFixed(1) + "%";
  row.appendChild(name); row.appendChild(fill); row.appendChild(value);
  return row;
}

// POST the image as a multipart upload; the JSON reply, or throws "status: detail".
async function postImage(url, blob) {
  const form = new FormData();
  form.append("file", blob, "image.png");
  const res = await fetch(url, { method: "POST", body: form });
  const body = await res.json();
  if (!res.ok) throw new Error(res.status + ": " + body.detail);
  return body;
}
