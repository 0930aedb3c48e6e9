/* The portal's only script: progressive enhancement. Every page works without it.
 *  - autocomplete: a text box + hidden id become an ARIA combobox fed by a JSON endpoint;
 *  - copy buttons: [data-copy=<input id>];
 *  - check-in: camera scanning with the browser's own BarcodeDetector, where it exists.
 *  - the phone menu: the current page's link scrolled into view.
 */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var t;
    return function () {
      var args = arguments, self = this;
      clearTimeout(t);
      t = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function setupAutocomplete(box) {
    var input = box.querySelector('input[type="text"]');
    var hidden = box.querySelector('input[type="hidden"]');
    var list = box.querySelector('[role="listbox"]');
    var url = box.getAttribute("data-autocomplete-url");
    var dependsOn = box.getAttribute("data-depends-on");
    var active = -1;
    var results = [];
    var lastQuery = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = list.querySelectorAll('[role="option"]');
      items.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      }
    }

    function choose(index) {
      var item = results[index];
      if (!item) { return; }
      input.value = item.label;
      hidden.value = item.id;
      lastQuery = item.label;
      close();
      box.dispatchEvent(new CustomEvent("autocomplete:chosen", { bubbles: true }));
    }

    function render(items) {
      results = items;
      list.textContent = "";
      if (!items.length) {
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = box.getAttribute("data-empty") || (document.documentElement.lang.indexOf("zh") === 0 ? "没有找到，请换个关键词" : "Nothing found; try another word");
        list.appendChild(none);
      }
      items.forEach(function (item, i) {
        var li = document.createElement("li");
        li.id = input.id + "_opt" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = item.label;
        if (item.detail) {
          var d = document.createElement("span");
          d.className = "detail";
          d.textContent = item.detail;
          li.appendChild(d);
        }
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    var search = debounce(function () {
      var q = input.value.trim();
      var params = new URLSearchParams({ q: q });
      if (dependsOn) {
        var dep = document.getElementById(dependsOn);
        if (dep && dep.value) { params.set("building", dep.value); }
        else if (q.length < 2) { close(); return; }
      } else if (!q) { close(); return; }
      var key = params.toString();
      if (key === lastQuery) { return; }
      lastQuery = key;
      fetch(url + "?" + key, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (document.activeElement === input) { render(data.results || []); } })
        .catch(close);
    }, 200);

    input.addEventListener("input", function () { hidden.value = ""; search(); });
    input.addEventListener("focus", function () { if (dependsOn) { lastQuery = null; search(); } });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) {
        if (e.key === "ArrowDown") { lastQuery = null; search(); e.preventDefault(); }
        return;
      }
      if (e.key === "ArrowDown") { highlight(Math.min(active + 1, results.length - 1)); e.preventDefault(); }
      else if (e.key === "ArrowUp") { highlight(Math.max(active - 1, 0)); e.preventDefault(); }
      else if (e.key === "Enter" && active >= 0) { choose(active); e.preventDefault(); }
      else if (e.key === "Escape") { close(); e.preventDefault(); }
    });
    if (dependsOn) {
      // A new building makes the chosen employer stale.
      document.addEventListener("autocomplete:chosen", function (e) {
        var dep = document.getElementById(dependsOn);
        if (dep && e.target !== box && e.target.contains(dep)) { input.value = ""; hidden.value = ""; }
      });
    }
  }

  function setupCopy(button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) { return; }
      field.select();
      var done = function () {
        var original = button.textContent;
        button.textContent = document.documentElement.lang.indexOf("zh") === 0 ? "已复制" : "Copied";
        setTimeout(function () { button.textContent = original; }, 2000);
      };
      if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, function () {}); }
      else { try { document.execCommand("copy"); done(); } catch (err) { /* the text stays selected */ } }
    });
  }

  // A reader of QR codes in video frames: the browser's BarcodeDetector where it reads QR codes
  // (Chrome on Android and macOS), else the vendored jsQR (Safari on iPhone, Firefox, desktop
  // Linux and Windows). Resolves to read(video) -> Promise of the text or null, or to null.
  function qrReader() {
    var viaJsQR = function () {
      if (!window.jsQR) { return null; }
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      return function (video) {
        var w = video.videoWidth, h = video.videoHeight;
        if (!w || !h) { return Promise.resolve(null); }
        var scale = Math.min(1, 800 / Math.max(w, h)); // big frames cost time, not accuracy
        canvas.width = Math.round(w * scale);
        canvas.height = Math.round(h * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        return Promise.resolve(found && found.data ? found.data : null);
      };
    };
    if (!("BarcodeDetector" in window)) { return Promise.resolve(viaJsQR()); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) { return viaJsQR(); }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function (video) {
        return detector.detect(video).then(function (codes) {
          return codes.length && codes[0].rawValue ? codes[0].rawValue : null;
        });
      };
    }).catch(viaJsQR);
  }

  function setupScanner() {
    var start = document.getElementById("scan-start");
    var form = document.getElementById("checkin-form");
    if (!start || !form || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
    var scanner = document.getElementById("scanner");
    var video = document.getElementById("scan-video");
    var stop = document.getElementById("scan-stop");
    var code = document.getElementById("id_code");
    var stream = null, running = false;
    qrReader().then(function (read) {
      if (!read) { return; }
      start.hidden = false;

      function end() {
        running = false;
        if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
        scanner.hidden = true;
        start.hidden = false;
      }
      function tick() {
        if (!running) { return; }
        read(video).then(function (text) {
          if (text && running) {
            code.value = text;
            end();
            form.submit();
          } else { setTimeout(tick, 150); }
        }).catch(function () { setTimeout(tick, 150); });
      }
      start.addEventListener("click", function () {
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
          stream = s;
          video.srcObject = s;
          scanner.hidden = false;
          start.hidden = true;
          running = true;
          video.play().then(tick);
        }).catch(function () { code.focus(); });
      });
      stop.addEventListener("click", end);
    });
  }

  // On a phone the menu is one row that scrolls sideways: the current page's link is brought
  // into view, so that a page late in the menu does not open with its own link cut off.
  function revealCurrentLink() {
    var current = document.querySelector('.main-nav [aria-current="page"]');
    if (!current) { return; }
    var row = current.closest("ul");
    var right = current.offsetLeft + current.offsetWidth - row.offsetLeft;
    if (right > row.scrollLeft + row.clientWidth) {
      row.scrollLeft = right - row.clientWidth + 16;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    revealCurrentLink();
    document.querySelectorAll(".autocomplete[data-autocomplete-url]").forEach(setupAutocomplete);
    document.querySelectorAll("[data-copy]").forEach(setupCopy);
    setupScanner();
  });
})();
