// The callback page, when it runs in the grant page's popup: tell the opener (our origin only)
// that the grant ended. The message carries one non-secret word; the opener asks our server.
(function () {
  'use strict';
  var el = document.getElementById('callback-data');
  if (!el) { return; }
  var data = JSON.parse(el.textContent);
  var close = document.getElementById('close-window');
  if (window.opener && !window.opener.closed) {
    try { window.opener.postMessage({ cartlink: data.status }, data.origin); } catch (e) { /* opener gone */ }
    if (close) {
      close.hidden = false;
      close.addEventListener('click', function () { window.close(); });
    }
  }
})();
