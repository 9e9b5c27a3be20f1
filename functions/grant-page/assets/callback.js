// The callback page, when it runs in the grant page's popup: tell the opener (our origin only)
// that the grant ended. The message carries one non-secret word; the opener asks our server.
// In the popup or in the tab, drop the spent code and state from the address bar first.
(function () {
  'use strict';
  // The authorization code and state are spent: take them out of the address bar and this
  // history entry, so neither a later look nor a shared screen shows them.
  if (window.history && window.history.replaceState && window.location.search) {
    window.history.replaceState(null, '', window.location.pathname);
  }
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
