/* Every panel page. The Content-Security-Policy allows no inline script, so what templates would do in
   onclick/onsubmit attributes is declared in data attributes and done here: confirmation prompts
   (data-confirm on a form or its button) and Flask-Admin's bulk actions (data-model-action). */
(function () {
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var button = form.querySelector('button[data-confirm]');
    var question = form.getAttribute('data-confirm') || (button && button.getAttribute('data-confirm'));
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener('click', function (event) {
    var link = event.target.closest ? event.target.closest('a[data-model-action]') : null;
    if (!link) { return; }
    event.preventDefault();
    if (window.modelActions) { window.modelActions.execute(link.getAttribute('data-model-action')); }
  });
}());
