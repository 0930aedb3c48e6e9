/* The printable volunteer record's "print" button (no inline handler: the CSP allows scripts from 'self' only). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-print]");
    if (button) {
      button.addEventListener("click", function () {
        window.print();
      });
    }
  });
})();
