/* A bulk action that asks one question first (a rejection reason, a number of days); see
   prompted_action_list.html. jQuery, because Flask-Admin submits the action form with jQuery. */
(function ($) {
  var answer = $('#bulk-answer');
  $('#action_form').on('submit', function () {
    if ($('#action', this).val() !== answer.data('action')) { return true; }
    var given = window.prompt(answer.data('question'), String(answer.data('default')));
    if (!given || !given.trim()) { return false; }
    answer.val(given.trim());
    return true;
  });
}(window.jQuery));
