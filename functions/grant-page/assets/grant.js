// The grant page: open the cart in a named popup on click (synchronously, inside the click,
// so no popup blocker objects), poll our status endpoint every second, accept a one-word
// message from the popup (our origin, our popup only), and never leave the merchant at a dead
// end: blocked popup, closed popup, decline and failure each get a message and a way on.
// Every value comes from the page's JSON data island and is shown with textContent; every
// message is there too, whole, in the page's language, with the places the values fill.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('grant-data').textContent);
  var form = document.getElementById('grant-form');
  var intro = document.getElementById('grant-intro');
  var blocked = document.getElementById('popup-blocked');
  var waiting = document.getElementById('waiting');
  var outcome = document.getElementById('outcome');
  var continueHere = document.getElementById('continue-here');
  var POPUP = 'cartlink_grant';
  var POLL_MS = 1000;
  var MAX_POLLS = 15 * 60; // an attempt lives 15 minutes
  var popup = null;
  var timer = null;
  var polls = 0;
  var closedShown = false;
  // A retry starts a new attempt: until the server has seen it ("waiting"), an old attempt's
  // "declined" or "failed" must not be taken for the new one's.
  var attemptSeen = false;

  var messages = data.messages;
  var values = data.values;

  // Each message is whole, as the page's language writes it; the page's values take the
  // places it names, as the server fills in its own messages.
  function fill(words) {
    return words.replace(/\{(warehouse|cart|date)\}/g, function (place, name) { return values[name]; });
  }

  function show(kind, message, retry) {
    var title = fill(message.title);
    var text = fill(message.text);
    outcome.textContent = '';
    outcome.className = kind === 'success' ? 'is-success' : 'is-problem';
    var h = document.createElement('h2');
    h.textContent = title;
    h.tabIndex = -1;
    outcome.appendChild(h);
    if (text) {
      var p = document.createElement('p');
      p.textContent = text;
      outcome.appendChild(p);
    }
    if (retry) {
      var b = document.createElement('button');
      b.type = 'button';
      b.id = 'retry';
      b.className = 'primary';
      b.textContent = fill(messages.tryAgain);
      b.addEventListener('click', function () { clear(); openPopup(); });
      outcome.appendChild(b);
      b.focus();
    } else {
      h.focus();
    }
  }

  function clear() {
    outcome.textContent = '';
    outcome.className = '';
    closedShown = false;
  }

  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    waiting.hidden = true;
  }

  function closePopup() {
    if (popup && !popup.closed) { try { popup.close(); } catch (e) { /* already gone */ } }
  }

  // Answers true when the status ends the wait.
  function onStatus(status) {
    if (status === 'waiting') { attemptSeen = true; return false; }
    if (status === 'authorized') {
      stop();
      closePopup();
      intro.hidden = true;
      blocked.hidden = true;
      show('success', messages.success, false);
      return true;
    }
    if (status === 'expired') {
      stop();
      closePopup();
      intro.hidden = true;
      show('problem', messages.expired, false);
      return true;
    }
    if (status === 'revoked' || status === 'invalid') {
      stop();
      closePopup();
      intro.hidden = true;
      show('problem', messages.gone, false);
      return true;
    }
    if (!attemptSeen) { return false; }
    if (status === 'declined') {
      stop();
      closePopup();
      show('problem', messages.declined, true);
      return true;
    }
    if (status === 'failed') {
      stop();
      closePopup();
      show('problem', messages.failed, true);
      return true;
    }
    return false;
  }

  function check() {
    return fetch(data.statusUrl, { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (s) { return onStatus(s.status); })
      .catch(function () { return false; /* the next tick tries again */ });
  }

  function tick() {
    polls += 1;
    if (polls > MAX_POLLS) {
      stop();
      show('problem', messages.slow, true);
      return;
    }
    var gone = popup !== null && popup.closed;
    check().then(function (done) {
      // The window was closed before the end. Say so and offer a retry, but keep polling: a
      // cart whose pages cut the link to their opener looks closed from here, and its grant may
      // still complete.
      if (!done && gone && !closedShown) {
        closedShown = true;
        waiting.hidden = true;
        show('problem', messages.closed, true);
      }
    });
  }

  function openPopup() {
    // Synchronous inside the click: no await before window.open.
    popup = window.open('', POPUP, 'popup=yes,width=520,height=720');
    if (!popup) {
      blocked.hidden = false;
      continueHere.focus();
      // Counted for the operators (how often browsers block the popup); nothing waits for it.
      fetch(data.popupBlockedUrl, { method: 'POST', credentials: 'same-origin', cache: 'no-store' })
        .catch(function () { /* only the count misses it */ });
      return;
    }
    blocked.hidden = true;
    attemptSeen = false;
    closedShown = false;
    form.target = POPUP;
    form.submit();
    form.removeAttribute('target');
    try { popup.focus(); } catch (e) { /* some browsers refuse */ }
    waiting.hidden = false;
    polls = 0;
    if (timer) { clearInterval(timer); }
    timer = setInterval(tick, POLL_MS);
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    clear();
    openPopup();
  });

  continueHere.addEventListener('click', function () {
    stop();
    form.removeAttribute('target');
    form.submit();
  });

  // A browser that runs this script showed the page: tell our server, which records the
  // invite's "opened" once. A mail scanner that only fetches the link runs no script.
  fetch(data.openedUrl, { method: 'POST', credentials: 'same-origin', cache: 'no-store' })
    .catch(function () { /* only the history misses it */ });

  // The popup says it is done (one non-secret word); we then ask our own server, which alone
  // says what happened. Anything not from our origin and our popup is ignored.
  window.addEventListener('message', function (e) {
    if (e.origin !== data.origin || popup === null || e.source !== popup) { return; }
    if (e.data && typeof e.data.cartlink === 'string') {
      attemptSeen = true;
      check();
    }
  });
})();
