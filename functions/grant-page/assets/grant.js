// The grant page: open the cart in a named popup on click (synchronously, so no blocker
// objects), poll our status endpoint every second, and never leave the merchant at a dead end.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('grant-data').textContent);
  var form = document.getElementById('grant-form');
  var intro = document.getElementById('grant-intro');
  var blocked = document.getElementById('popup-blocked');
  var waiting = document.getElementById('waiting');
  var outcome = document.getElementById('outcome');
  var continueHere = document.getElementById('continue-here');
  var popup = null;
  var timer = null;
  var sameTab = false;

  function say(title, text, retry) {
    outcome.textContent = '';
    var h = document.createElement('h2');
    h.textContent = title;
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
      b.textContent = 'Try again';
      b.addEventListener('click', function () { outcome.textContent = ''; openPopup(); });
      outcome.appendChild(b);
      b.focus();
    }
  }

  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    waiting.hidden = true;
  }

  function onStatus(status) {
    if (status === 'authorized') {
      stop();
      intro.hidden = true;
      blocked.hidden = true;
      document.body.classList.add('success');
      say('Successful Authorization',
        data.warehouse + ' can now work with your ' + data.cart + ' store. You can close this page.', false);
      if (popup && !popup.closed) { try { popup.close(); } catch (e) { /* already gone */ } }
      return true;
    }
    if (status === 'declined') {
      stop();
      say('Access was not granted', 'You declined at ' + data.cart + '. Nothing was shared. You can try again.', true);
      return true;
    }
    if (status === 'failed') {
      stop();
      say('The connection did not complete', data.cart + ' did not finish the sign-in. Nothing was shared. You can try again.', true);
      return true;
    }
    if (status === 'expired' || status === 'invalid') {
      stop();
      intro.hidden = true;
      say('This link no longer works', 'Ask ' + data.warehouse + ' for a new link.', false);
      return true;
    }
    return false;
  }

  function check(popupClosed) {
    fetch(data.statusUrl, { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (onStatus(s.status)) { return; }
        if (popupClosed) {
          stop();
          say('The ' + data.cart + ' window was closed', 'Access was not granted yet. You can try again.', true);
        }
      })
      .catch(function () { /* the next tick tries again */ });
  }

  function tick() {
    if (popup && popup.closed) {
      clearInterval(timer);
      timer = null;
      check(true);
      return;
    }
    check(false);
  }

  function openPopup() {
    popup = window.open('', 'cartlink_grant', 'popup=yes,width=520,height=720');
    if (!popup) {
      blocked.hidden = false;
      continueHere.focus();
      return;
    }
    blocked.hidden = true;
    form.target = 'cartlink_grant';
    form.submit();
    form.removeAttribute('target');
    waiting.hidden = false;
    if (timer) { clearInterval(timer); }
    timer = setInterval(tick, 1000);
  }

  form.addEventListener('submit', function (e) {
    if (sameTab) { return; }
    e.preventDefault();
    outcome.textContent = '';
    openPopup();
  });

  continueHere.addEventListener('click', function () {
    sameTab = true;
    form.removeAttribute('target');
    form.submit();
  });

  // The popup tells us it is done (a non-secret word); we then ask our own server.
  window.addEventListener('message', function (e) {
    if (e.origin !== data.origin || !popup || e.source !== popup) { return; }
    if (e.data && typeof e.data.cartlink === 'string') { check(false); }
  });
})();
