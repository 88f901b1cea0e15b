// lab3's playground, the page's side (an anywidget ES module; lab3/playground/protocol.py has
// the messages). The controls and the pictures live here: the kernel trains and answers every
// request with a frame of compact arrays, which this module draws on <canvas> elements.
//
// Latest position wins: at most one request is in flight; a slider moved meanwhile replaces
// the waiting settings, so only the newest position is ever sent once the kernel is free.
// The play loop asks for the next epoch as soon as a frame arrives (the kernel trains it while the
// page draws this one), or on the animation frame after the picture if a request was in flight.
// For tests and benchmarks the root element carries data-frames (pictures drawn, set when the
// picture is on screen), data-epoch, data-curve (points on the loss curve), data-seq,
// data-settings (the knobs the picture shows, JSON), and
// el.playground.latencies (ms from a control's input event to its picture on screen).

const ORANGE = [245, 147, 34], GREY = [232, 234, 235], BLUE = [8, 119, 189];
const PLOT = 300; // the heat map's side in CSS pixels
const THUMB = 44; // a unit's thumbnail
const LABELS = {
  task: "data", n_samples: "samples", noise: "noise", test_fraction: "test fraction",
  seed: "seed", learning_rate: "learning rate", batch_size: "batch size", reg: "L2 reg",
  width: "units per layer", depth: "hidden layers", activation: "activation",
};
const GROUPS = [
  ["data", ["task", "test_fraction", "noise", "n_samples", "seed"]],
  ["training", ["learning_rate", "batch_size", "reg"]],
  ["network", ["activation", "depth", "width"]],
];
const SELECTS = new Set(["task", "activation"]);

function lut() {
  // 256 colours: orange (0) -> grey (128) -> blue (255), as TensorFlow Playground
  const table = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255, [a, b, u] = t < 0.5 ? [ORANGE, GREY, t * 2] : [GREY, BLUE, t * 2 - 1];
    for (let c = 0; c < 3; c++) table[3 * i + c] = a[c] + (b[c] - a[c]) * u;
  }
  return table;
}
const COLOURS = lut();
const rgb = (v) => `rgb(${COLOURS[3 * v]},${COLOURS[3 * v + 1]},${COLOURS[3 * v + 2]})`;

function element(tag, attrs = {}, parent = null, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function canvas(parent, width, height, cls) {
  const c = element("canvas", { class: cls }, parent);
  const ratio = window.devicePixelRatio || 1;
  c.width = Math.round(width * ratio);
  c.height = Math.round(height * ratio);
  c.style.width = `${width}px`;
  c.style.height = `${height}px`;
  const ctx = c.getContext("2d");
  ctx.scale(ratio, ratio);
  return { c, ctx, width, height };
}

function image(bytes, offset, size, scratch) {
  // one G x G channel of uint8 into the scratch canvas, through the colour table
  const data = scratch.image.data;
  for (let i = 0; i < size * size; i++) {
    const v = bytes[offset + i];
    data[4 * i] = COLOURS[3 * v];
    data[4 * i + 1] = COLOURS[3 * v + 1];
    data[4 * i + 2] = COLOURS[3 * v + 2];
    data[4 * i + 3] = 255;
  }
  scratch.ctx.putImageData(scratch.image, 0, 0);
  return scratch.c;
}

function decode(header, buffers) {
  const copy = (i) => buffers[i].buffer.slice(buffers[i].byteOffset,
    buffers[i].byteOffset + buffers[i].byteLength);
  return {
    ...header,
    heat: new Uint8Array(copy(0)),
    units: new Uint8Array(copy(1)),
    curves: new Float32Array(copy(2)),
    points: new Float32Array(copy(3)),
    colours: new Uint8Array(copy(4)),
  };
}

function fmt(x) {
  if (x === null || x === undefined) return "–";
  return Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(2);
}

function render({ model, el }) {
  const choices = model.get("choices");
  const root = element("div", { class: "lab3-playground", "data-frames": "0" }, el);
  const state = {
    seq: 0, inFlight: null, pending: null, playing: false, last: null, channel: 0,
    inputTimes: [], latencies: [], frames: 0, drawnAt: [], scratch: null, alive: true,
  };
  root.playground = state;

  // --- the top bar: play / pause / step / reset and the epoch ---------------------------
  const bar = element("div", { class: "lab3-pg-bar" }, root);
  const reset = element("button", { class: "lab3-pg-reset", title: "reset the network" }, bar, "⟲ reset");
  const play = element("button", { class: "lab3-pg-play", title: "train epoch after epoch" }, bar, "▶ play");
  const step = element("button", { class: "lab3-pg-step", title: "train one epoch" }, bar, "+1 step");
  const epoch = element("span", { class: "lab3-pg-epoch" }, bar, "epoch 0");
  const status = element("span", { class: "lab3-pg-status" }, bar, "");

  // --- the controls ----------------------------------------------------------------------
  const body = element("div", { class: "lab3-pg-body" }, root);
  const controlsBox = element("div", { class: "lab3-pg-controls" }, body);
  const inputs = {};
  for (const [title, names] of GROUPS) {
    const group = element("fieldset", { class: "lab3-pg-group" }, controlsBox);
    element("legend", {}, group, title);
    for (const name of names) {
      const row = element("label", { class: "lab3-pg-row" }, group);
      element("span", { class: "lab3-pg-label" }, row, LABELS[name]);
      let input, readout = null;
      if (SELECTS.has(name)) {
        input = element("select", { name }, row);
        for (const option of choices[name]) element("option", { value: option }, input, option);
      } else {
        input = element("input", { type: "range", name, min: 0, max: choices[name].length - 1, step: 1 }, row);
        readout = element("span", { class: "lab3-pg-readout" }, row);
      }
      inputs[name] = { input, readout };
      input.addEventListener("input", () => moved(name));
    }
  }
  const valueOf = (name) => {
    const { input } = inputs[name];
    return SELECTS.has(name) ? input.value : choices[name][Number(input.value)];
  };
  const showSettings = (settings) => {
    for (const [name, { input, readout }] of Object.entries(inputs)) {
      const value = settings[name];
      if (SELECTS.has(name)) input.value = value;
      else {
        let index = choices[name].indexOf(value);
        if (index < 0) index = nearest(choices[name], value);
        input.value = index;
        readout.textContent = value;
      }
    }
  };
  const nearest = (options, value) => options.reduce(
    (best, x, i) => (Math.abs(x - value) < Math.abs(options[best] - value) ? i : best), 0);

  // --- the pictures -------------------------------------------------------------------------
  const network = element("div", { class: "lab3-pg-network" }, body);
  element("div", { class: "lab3-pg-title" }, network, "hidden units over the plane");
  const thumbsBox = element("div", { class: "lab3-pg-thumbs" }, network);
  let thumbs = null;
  const output = element("div", { class: "lab3-pg-output" }, body);
  const losses = element("div", { class: "lab3-pg-losses" }, output);
  const curve = canvas(output, PLOT, 90, "lab3-pg-curve");
  const channelBox = element("div", { class: "lab3-pg-channel" }, output);
  const heat = canvas(output, PLOT, PLOT, "lab3-pg-heat");
  const legend = element("div", { class: "lab3-pg-legend" }, output);
  const message = element("div", { class: "lab3-pg-message" }, root);

  // --- requests: one in flight, the newest settings waiting -----------------------------------
  function send(msg) {
    state.seq += 1;
    msg.seq = state.seq;
    state.inFlight = { seq: msg.seq, type: msg.type };
    model.send(msg);
  }
  function pump() {
    if (state.inFlight || !state.alive) return;
    if (state.pending) {
      const values = state.pending;
      state.pending = null;
      send({ type: "settings", values });
    } else if (state.playing) {
      send({ type: "step", epochs: 1 });
    }
  }
  function moved(name) {
    const now = performance.now();
    if (inputs[name].readout) inputs[name].readout.textContent = valueOf(name);
    state.inputTimes.push(now);
    const values = {};
    for (const n of Object.keys(inputs)) values[n] = valueOf(n);
    state.pending = values; // replaces an older position still waiting
    pump();
  }
  reset.addEventListener("click", () => { state.pending = null; queueControl("reset"); });
  step.addEventListener("click", () => { setPlaying(false); queueControl("step"); });
  play.addEventListener("click", () => setPlaying(!state.playing));
  function queueControl(type) {
    if (state.inFlight) { setTimeout(() => queueControl(type), 10); return; }
    send(type === "step" ? { type, epochs: 1 } : { type });
  }
  function setPlaying(on) {
    state.playing = on;
    play.textContent = on ? "❚❚ pause" : "▶ play";
    root.dataset.playing = on ? "1" : "0";
    pump();
  }

  // --- frames -------------------------------------------------------------------------------
  function onMessage(msg, buffers) {
    if (msg.type === "error") {
      if (state.inFlight && msg.seq >= state.inFlight.seq) state.inFlight = null;
      message.textContent = `refused: ${msg.message}`;
      if (state.last) showSettings(state.last.settings);
      state.inputTimes = [];
      pump();
      return;
    }
    if (msg.type !== "frame") return;
    state.seq = Math.max(state.seq, msg.seq);
    if (state.inFlight && msg.seq >= state.inFlight.seq) state.inFlight = null;
    const f = decode(msg, buffers);
    // while playing, ask for the next epoch now: the kernel trains it while this one is drawn
    if (!f.error) pump();
    const first = state.last === null;
    state.last = f;
    if (first) showSettings(f.settings); // later frames answer the controls' own positions
    draw(f);
    requestAnimationFrame(() => {
      // the picture is on screen from this frame on: the time the benchmark reads
      const now = performance.now();
      state.frames += 1;
      state.drawnAt.push(now);
      if (state.inputTimes.length && !state.pending && !state.inFlight) {
        state.latencies.push(now - state.inputTimes[0]);
        state.inputTimes = [];
      }
      root.dataset.epoch = String(f.epoch);
      root.dataset.curve = String(f.n_curve[0]);
      root.dataset.seq = String(f.seq);
      root.dataset.settings = JSON.stringify(f.settings);
      root.dataset.frames = String(state.frames);
      if (f.error) setPlaying(false);
      pump();
    });
  }

  function draw(f) {
    const G = f.grid;
    if (!state.scratch || state.scratch.size !== G) {
      const c = document.createElement("canvas");
      c.width = G;
      c.height = G;
      const ctx = c.getContext("2d");
      state.scratch = { c, ctx, size: G, image: ctx.createImageData(G, G) };
    }
    epoch.textContent = `epoch ${String(f.epoch).padStart(4, "0")}`;
    const acc = f.kind === "classification"
      ? `  ·  accuracy train ${(100 * f.train_accuracy).toFixed(1)} %` +
        (f.test_accuracy === null ? "" : `, test ${(100 * f.test_accuracy).toFixed(1)} %`)
      : "";
    losses.textContent = `${f.loss}: train ${fmt(f.train_loss)}, test ${fmt(f.test_loss)}${acc}`;
    status.textContent = `${f.settings.task} · ${f.settings.activation} [${f.layers.join(", ")}]`;
    message.textContent = f.error ? `stopped: ${f.error}` : "";
    drawChannels(f);
    drawHeat(f);
    drawCurve(f);
    drawThumbs(f);
  }

  function drawChannels(f) {
    if (state.channel >= f.channels) state.channel = 0;
    const wanted = f.channels > 1 ? f.channels : 0;
    if (channelBox.childElementCount !== wanted) {
      channelBox.replaceChildren();
      for (let c = 0; c < wanted; c++) {
        const b = element("button", { "data-channel": c }, channelBox, `output ${c + 1}`);
        b.addEventListener("click", () => { state.channel = c; draw(state.last); });
      }
    }
    for (const b of channelBox.children) {
      b.classList.toggle("lab3-pg-on", Number(b.dataset.channel) === state.channel);
    }
  }

  function drawHeat(f) {
    const { ctx } = heat, G = f.grid, e = f.extent;
    ctx.imageSmoothingEnabled = true;
    // the background paler than the points, as TensorFlow Playground, so that points show
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, PLOT, PLOT);
    ctx.globalAlpha = 0.6;
    ctx.drawImage(image(f.heat, state.channel * G * G, G, state.scratch), 0, 0, PLOT, PLOT);
    ctx.globalAlpha = 1;
    const n = f.n_points[0] + f.n_points[1], off = state.channel * n;
    for (let i = 0; i < n; i++) {
      const x = ((f.points[2 * i] + e) / (2 * e)) * PLOT;
      const y = ((e - f.points[2 * i + 1]) / (2 * e)) * PLOT;
      ctx.beginPath();
      ctx.arc(x, y, 2.6, 0, 2 * Math.PI);
      ctx.fillStyle = rgb(f.colours[off + i]);
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = i < f.n_points[0] ? "white" : "#222";
      ctx.stroke();
    }
    const what = f.kind === "classification" ? "P(class 1): orange 0 → blue 1"
      : `output ${state.channel + 1}: orange −${fmt(f.target_scale)} → blue +${fmt(f.target_scale)}`;
    legend.textContent = `${what} · square ±${e} · train points white-edged, test dark-edged`;
  }

  function drawCurve(f) {
    const { ctx, width, height } = curve;
    ctx.clearRect(0, 0, width, height);
    const [nTrain, nTest] = f.n_curve;
    const train = f.curves.subarray(0, nTrain), test = f.curves.subarray(nTrain, nTrain + nTest);
    const all = Array.from(f.curves).filter((v) => v > 0 && Number.isFinite(v));
    if (!all.length) return;
    const lo = Math.log10(Math.min(...all)), hi = Math.log10(Math.max(...all));
    const span = Math.max(hi - lo, 1e-6), last = Math.max(nTrain - 1, 10);
    const line = (values, colour) => {
      ctx.beginPath();
      values.forEach((v, i) => {
        const x = 4 + (i / last) * (width - 8);
        // the top and bottom 16 px hold the labels, so the curve never runs under them
        const y = 16 + (1 - (Math.log10(Math.max(v, 1e-30)) - lo) / span) * (height - 32);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      });
      ctx.strokeStyle = colour;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    };
    line(train, "#333");
    if (nTest) line(test, "#f59322");
    ctx.fillStyle = "#666";
    ctx.font = "10px sans-serif";
    ctx.fillText(`${fmt(10 ** hi)} (log scale) · train dark, test orange`, 6, 12);
    ctx.fillText(fmt(10 ** lo), 6, height - 4);
  }

  function drawThumbs(f) {
    const layers = f.layers, G = f.grid;
    const rows = Math.max(1, ...layers), cols = Math.max(1, layers.length);
    const w = cols * (THUMB + 14) + 6, h = rows * (THUMB + 6) + 20;
    if (!thumbs || thumbs.width !== w || thumbs.height !== h) {
      thumbsBox.replaceChildren();
      thumbs = canvas(thumbsBox, w, h, "lab3-pg-thumbcanvas");
    }
    const { ctx } = thumbs;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#666";
    ctx.font = "10px sans-serif";
    if (!layers.length) ctx.fillText("no hidden layer: affine", 4, 14);
    let unit = 0;
    layers.forEach((size, l) => {
      const x = 6 + l * (THUMB + 14);
      ctx.fillText(`layer ${l + 1}`, x, 12);
      for (let u = 0; u < size; u++, unit++) {
        const y = 18 + u * (THUMB + 6);
        ctx.imageSmoothingEnabled = true;
        ctx.drawImage(image(f.units, unit * G * G, G, state.scratch), x, y, THUMB, THUMB);
        ctx.strokeStyle = "#bbb";
        ctx.strokeRect(x - 0.5, y - 0.5, THUMB + 1, THUMB + 1);
      }
    });
  }

  model.on("msg:custom", onMessage);
  model.send({ type: "hello" });
  return () => {
    state.alive = false;
    model.off("msg:custom", onMessage);
  };
}

export default { render };
