// Enhancement only: every page works without it.
// - An error summary's links move the focus to their field.
// - On the permit form, the summary is recalculated when a field changes (the
//   "Bereken" button does the same without script).
(function () {
  'use strict';

  // Styles and tests can tell that the enhancements run.
  document.documentElement.classList.add('loket-js');

  document.querySelectorAll('[data-error-summary] a[href^="#"]').forEach(function (link) {
    link.addEventListener('click', function (event) {
      var field = document.getElementById(link.getAttribute('href').slice(1));
      if (field) {
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: 'center' });
      }
    });
  });

  var form = document.querySelector('form[data-live-summary]');
  var summary = document.getElementById('samenvatting');
  if (!form || !summary || !window.fetch) {
    return;
  }
  var timer = null;
  function recalculate() {
    var data = new URLSearchParams(new FormData(form));
    data.set('actie', 'bereken');
    fetch(form.action, {
      method: 'POST',
      body: data,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' }
    })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        var page = new DOMParser().parseFromString(text, 'text/html');
        var fresh = page.getElementById('samenvatting');
        if (fresh) {
          summary.innerHTML = fresh.innerHTML;
        }
      })
      .catch(function () { /* the button still works */ });
  }
  form.addEventListener('change', function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(recalculate, 300);
  });
})();
