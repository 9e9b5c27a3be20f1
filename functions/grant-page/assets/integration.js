// The admin integration page (Magento): copy buttons for the two addresses, and a status poll
// that says "Successful Authorization" once the store has posted its credentials and cartlink
// has stored the connection. Every value comes from the page's JSON data island and is shown
// with textContent; every message is there too, whole, in the page's language. Without this script the page still lists the steps and links back to the
// grant page, which says when the store is connected.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('integration-data').textContent);
  var intro = document.getElementById('grant-intro');
  var waiting = document.getElementById('waiting');
  var outcome = document.getElementById('outcome');
  var POLL_MS = 2000;
  var MAX_POLLS = 60 * 60 * 1000 / POLL_MS; // the attempt lives an hour
  var polls = 0;
  var timer = null;
  var messages = data.messages;

  Array.prototype.forEach.call(document.querySelectorAll('button.copy'), function (b) {
    var field = document.getElementById(b.getAttribute('data-copy'));
    if (!field || !navigator.clipboard) { return; }
    b.hidden = false;
    b.addEventListener('click', function () {
      navigator.clipboard.writeText(field.value).then(function () {
        b.textContent = messages.copied;
        setTimeout(function () { b.textContent = messages.copy; }, 2000);
      }, function () {
        field.focus();
        field.select();
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('.setting input'), function (f) {
    f.addEventListener('focus', function () { f.select(); });
  });

  function show(kind, message) {
    var title = message.title;
    var text = message.text;
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
    h.focus();
  }

  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    waiting.hidden = true;
  }

  function onStatus(status) {
    if (status === 'authorized') {
      stop();
      intro.hidden = true;
      show('success', messages.success);
    } else if (status === 'failed') {
      stop();
      show('problem', messages.failed);
    } else if (status === 'expired') {
      stop();
      intro.hidden = true;
      show('problem', messages.expired);
    } else if (status === 'revoked' || status === 'invalid') {
      stop();
      intro.hidden = true;
      show('problem', messages.gone);
    }
  }

  function tick() {
    polls += 1;
    if (polls > MAX_POLLS) {
      stop();
      show('problem', messages.stale);
      return;
    }
    fetch(data.statusUrl, { cache: 'no-store', credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (s) { onStatus(s.status); })
      .catch(function () { /* the next tick tries again */ });
  }

  timer = setInterval(tick, POLL_MS);
})();
