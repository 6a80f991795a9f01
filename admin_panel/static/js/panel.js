/* Every panel page. The Content-Security-Policy allows no inline script, so what templates used to do
   in onclick/onsubmit attributes is done here: confirmation prompts (data-confirm) and Flask-Admin's
   own inline handlers (bulk actions, delete confirmation), which the browser no longer runs. */
(function () {
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute('data-confirm');
    if (!question && form.querySelector('button[onclick*="safeConfirm"]')) {
      question = 'Are you sure you want to delete this record?';
    }
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener('click', function (event) {
    var link = event.target.closest ? event.target.closest('a[onclick*="modelActions.execute"]') : null;
    if (!link) { return; }
    var match = /modelActions\.execute\('([^']*)'\)/.exec(link.getAttribute('onclick'));
    event.preventDefault();
    if (match && window.modelActions) { window.modelActions.execute(match[1]); }
  });
}());
